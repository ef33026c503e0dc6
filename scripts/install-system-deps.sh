#!/usr/bin/env bash
# Installs the Debian packages synthdiff's tests need: Chromium and its WebDriver (the report tests open
# reports in a headless browser; the study test drives the web app in it) and the X11 client libraries
# that Blender's bpy module links against even when it renders headless. Extra package names given as
# arguments are installed too (`make realness-data` passes opencv-doc, whose example photos are
# real-photo sources for the realness classifier; `make povray-renders` passes povray and povray-examples).
set -euo pipefail
packages=(chromium chromium-driver libx11-6 libxrender1 libxfixes3 libxi6 libxkbcommon0 libxcb1 libsm6 libgl1 "$@")
missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done
if [ "${#missing[@]}" -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "Missing Debian packages: ${missing[*]}. Run 'sudo apt-get install ${missing[*]}' first." >&2
    exit 1
fi
echo "Installing Debian packages for the tests: ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
