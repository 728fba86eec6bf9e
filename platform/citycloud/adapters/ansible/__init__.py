"""Drive Ansible playbooks through ansible-runner.

The package knows how to run a playbook over an inventory built in Python and
how to read back what changed; what the variables mean is the business of the
engine that builds them (see :mod:`citycloud.adapters.ansible.tenants`).
"""
