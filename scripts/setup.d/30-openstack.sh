#!/usr/bin/env bash
# Installs the Debian packages of the test OpenStack (scripts/devcloud):
# Keystone, Placement, Glance, Neutron server, Nova, Cinder, RabbitMQ, uwsgi.
# Idempotent: does nothing when every package is already installed. Package
# scripts are kept from starting daemons (policy-rc.d); scripts/devcloud starts
# its own processes on loopback.
set -euo pipefail

packages=(
    keystone
    placement-api
    glance-api
    neutron-server
    nova-api nova-conductor nova-scheduler
    nova-compute nova-compute-ironic
    cinder-api cinder-scheduler cinder-volume
    rabbitmq-server
    uwsgi-core uwsgi-plugin-python3
    python3-psycopg2
    postgresql
)

missing=()
for package in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
    if [[ "$status" != "install ok installed" ]]; then
        missing+=("$package")
    fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
    exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
    echo "30-openstack: root is needed to install: ${missing[*]}" >&2
    exit 1
fi

# Daemons started by package scripts would take the default ports and run
# outside our control; 101 means "action forbidden" to invoke-rc.d.
if [[ ! -x /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
fi

export DEBIAN_FRONTEND=noninteractive
apt_get=(apt-get -o DPkg::Lock::Timeout=900 -q -y)
echo "30-openstack: installing ${#missing[@]} packages: ${missing[*]}"
if ! "${apt_get[@]}" install --no-install-recommends "${missing[@]}"; then
    # A stale or empty package list is the usual cause: refresh once and retry.
    "${apt_get[@]}" update
    "${apt_get[@]}" install --no-install-recommends "${missing[@]}"
fi
