#!/usr/bin/env bash
# Installs Debian's PostgreSQL server for scripts/postgres (throwaway clusters
# for the state store and audit tests, and the test OpenStack's database).
# Idempotent: nothing happens when it is already installed. Package scripts
# must not start the distribution's own cluster (policy-rc.d).
set -euo pipefail

if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && command -v psql >/dev/null; then
    exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
    echo "10-postgres: root is needed to install postgresql" >&2
    exit 1
fi
if [[ ! -x /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
fi

export DEBIAN_FRONTEND=noninteractive
apt_get=(apt-get -o DPkg::Lock::Timeout=900 -q -y)
echo "10-postgres: installing postgresql"
if ! "${apt_get[@]}" install --no-install-recommends postgresql; then
    "${apt_get[@]}" update
    "${apt_get[@]}" install --no-install-recommends postgresql
fi
