#!/usr/bin/env bash
# Installs Debian's chromium for the headless-browser test of the HTML report; idempotent.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "install-chromium: not root, skipping (the browser test will be skipped)" >&2
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null; }; then
    echo "install-chromium: apt-get could not install chromium (the browser test will be skipped)" >&2
fi
