#!/bin/sh
# Installs Debian's Prometheus, node exporter and Alertmanager binaries.
# The packages' own daemons are never started (policy-rc.d); the project's
# scripts/prometheus starts the binaries on 127.0.0.1 with state in the run dir.
set -eu

if command -v prometheus >/dev/null 2>&1 \
    && command -v promtool >/dev/null 2>&1 \
    && command -v prometheus-node-exporter >/dev/null 2>&1 \
    && command -v prometheus-alertmanager >/dev/null 2>&1; then
    exit 0
fi

if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
fi

export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=900 update -qq
apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends \
    prometheus prometheus-node-exporter prometheus-alertmanager >/dev/null
