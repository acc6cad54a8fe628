#!/usr/bin/env bash
# Installs the Debian packages Presence Agent needs to build and test, if any are missing.
# Idempotent: installs nothing when everything is there. Uses sudo when not root.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libcpprest-dev libpoco-dev libsqlitecpp-dev libsqlite3-dev libcli11-dev libboost-test-dev
  libhowardhinnant-date-dev tzdata libssl-dev openssl libre-dev
  chromium fonts-dejavu-core
)

# The browser test runs on the machine's Node.js, which ships npm; Debian's npm package
# conflicts with it (design.md 8), so it is not installed here.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "install-deps: Node.js 20+ with npm is needed for the browser test and was not found" >&2
  exit 1
fi

bash "$(dirname "$0")/apt-install.sh" install-deps "${PACKAGES[@]}"
