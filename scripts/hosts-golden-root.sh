#!/usr/bin/env bash
# Build (once) the golden Debian root that disposable test hosts overlay.
#
#   scripts/hosts-golden-root.sh ROOT [PACKAGE...]
#
# ROOT gets a minbase bookworm with python3 and python3-apt (so Ansible modules
# run inside), a policy-rc.d that keeps packages from starting services, and
# the .deb files of PACKAGE... downloaded into its apt cache but not installed:
# each overlay then installs them from its own copy of that cache, without the
# network and without sharing an apt lock. The mirror is the one this machine's
# own apt sources use. A stamp records the package list; a root built for
# another list is rebuilt. Nothing outside ROOT (and ROOT.lock) is touched.
set -euo pipefail

root=${1:?usage: hosts-golden-root.sh ROOT [PACKAGE...]}
shift
prefetch=("$@")
stamp="$root/.citycloud-golden"
want="minbase bookworm python3 python3-apt ${prefetch[*]:-}"

mkdir -p "$(dirname "$root")"
exec 9>"$root.lock"
flock 9

if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    exit 0
fi

# Rebuilding under mounted overlays would pull the floor from under them.
if grep -q "lowerdir=$root[,:]" /proc/mounts; then
    echo "golden root $root is in use by overlay mounts; unmount them first" >&2
    exit 1
fi

mirror_from_sources() {
    local line
    # deb822 sources first, then one-line sources; skip the security archive.
    line=$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null \
        | awk '{print $2}' | grep -E '/debian/?$' | head -n1 || true)
    if [[ -z "$line" ]]; then
        line=$(grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
            2>/dev/null | awk '{print $2}' | grep -E '/debian/?$' | head -n1 || true)
    fi
    echo "${line:-http://deb.debian.org/debian}"
}

mirror=$(mirror_from_sources)
build="$root.build"
rm -rf "$build"
echo "golden root: debootstrap bookworm from $mirror into $build" >&2
debootstrap --variant=minbase bookworm "$build" "$mirror" >"$root.debootstrap.log" 2>&1 \
    || { tail -n 20 "$root.debootstrap.log" >&2; exit 1; }

printf '#!/bin/sh\n# Disposable test host: packages never start services.\nexit 101\n' \
    >"$build/usr/sbin/policy-rc.d"
chmod 0755 "$build/usr/sbin/policy-rc.d"

export DEBIAN_FRONTEND=noninteractive
chroot "$build" apt-get -qq update
chroot "$build" apt-get -qq install -y --no-install-recommends python3 python3-apt >/dev/null
if ((${#prefetch[@]} > 0)); then
    chroot "$build" apt-get -qq install -y --no-install-recommends --download-only \
        "${prefetch[@]}" >/dev/null
fi
echo "$want" >"$build/.citycloud-golden"

rm -rf "$root"
mv "$build" "$root"
