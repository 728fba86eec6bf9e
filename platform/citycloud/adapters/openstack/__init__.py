"""OpenStack: observe the ``cloud`` and ``openstack`` layers with openstacksdk
and apply plans for them through Ansible's openstack.cloud collection.

``live`` reads a snapshot, ``observe`` turns it into the desired state's
shapes, ``conflicts`` and ``guards`` check the spec and the plan against it
before any write, and ``engine`` ties them together for citycloud.apply.
"""
