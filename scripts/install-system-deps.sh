#!/usr/bin/env bash
# Installs the Debian packages synthdiff's tests need (Chromium for the report tests).
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "Chromium is missing and this is not root: run 'sudo apt-get install chromium' first." >&2
    exit 1
fi
echo "Installing Chromium (Debian package) for the browser tests..."
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
