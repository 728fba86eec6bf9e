#!/usr/bin/env bash
# Headless Chromium from Debian for the portal's browser tests (tests/e2e).
# Playwright drives it through executable_path=/usr/bin/chromium; never run
# `playwright install`, which downloads a browser build of its own.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
    exit 0
fi

export DEBIAN_FRONTEND=noninteractive
apt_opts=(-y -q -o DPkg::Lock::Timeout=900)
if ! apt-cache policy chromium 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    apt-get "${apt_opts[@]}" update
fi
apt-get "${apt_opts[@]}" install --no-install-recommends chromium fonts-noto-cjk
