#!/usr/bin/env bash
# System packages for the hosts area: debootstrap builds the golden Debian root
# that the disposable test hosts overlay; openssh-client lets Ansible reach (or
# fail to reach) SSH targets. Idempotent: installs only what is missing.
set -euo pipefail

wanted=(debootstrap openssh-client)
missing=()
for pkg in "${wanted[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$pkg")
    fi
done

if ((${#missing[@]} == 0)); then
    exit 0
fi

export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=900 update -qq
apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends "${missing[@]}"
