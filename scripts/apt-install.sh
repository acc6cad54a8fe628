#!/usr/bin/env bash
# Installs the Debian packages named on the command line, if any are missing.
# Idempotent: installs nothing when everything is there. Uses sudo when not root.
# Usage: scripts/apt-install.sh <label> <package>...   (the label prefixes what it prints)
set -euo pipefail
label=$1
shift

missing=()
for pkg in "$@"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "$label: all $# packages already installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "$label: installing ${missing[*]}"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "$label: packages installed"
