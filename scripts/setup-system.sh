#!/usr/bin/env bash
# Installs the Debian packages tunesmith needs: libfluidsynth3 (loaded by pyfluidsynth),
# fluid-soundfont-gm (a General MIDI soundfont) and fluidsynth (the CLI, for benchmarks).
set -euo pipefail
packages=(libfluidsynth3 fluid-soundfont-gm fluidsynth)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
    echo "tunesmith needs these Debian packages: ${missing[*]}" >&2
    echo "install them with: sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi
echo "installing ${missing[*]} with apt-get" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
