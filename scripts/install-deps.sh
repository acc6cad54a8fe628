#!/usr/bin/env bash
# Installs the Debian packages Presence Agent needs to build and test, if any are missing.
# Idempotent: installs nothing when everything is there. Uses sudo when not root.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libcpprest-dev libpoco-dev libsqlitecpp-dev libsqlite3-dev libcli11-dev libboost-test-dev
  libhowardhinnant-date-dev tzdata libssl-dev openssl
  chromium fonts-dejavu-core
)

# The browser test runs on the machine's Node.js, which ships npm; Debian's npm package
# conflicts with it (design.md 8), so it is not installed here.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "install-deps: Node.js 20+ with npm is needed for the browser test and was not found" >&2
  exit 1
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages already installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "install-deps: done"
