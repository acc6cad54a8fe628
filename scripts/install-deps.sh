#!/usr/bin/env bash
# Installs the Debian packages Presence Agent needs to build and test, if any are missing.
# Idempotent: installs nothing when everything is there. Uses sudo when not root.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libcpprest-dev libpoco-dev libsqlitecpp-dev libsqlite3-dev libcli11-dev libboost-test-dev
  libhowardhinnant-date-dev tzdata libssl-dev openssl libre-dev libjemalloc-dev zlib1g-dev
  kamailio kamailio-presence-modules kamailio-tls-modules
  chromium fonts-dejavu-core
  dpkg-dev systemd
)
# dpkg-dev (dpkg-shlibdeps) and systemd (systemd-analyze) are for the package test
# (tests/e2e/package_test.cc): it builds the .deb and verifies its unit. A full Debian 12 install
# has systemd; container images do not.

# The browser test runs on the machine's Node.js, which ships npm; Debian's npm package
# conflicts with it (design.md 8), so it is not installed here.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "install-deps: Node.js 20+ with npm is needed for the browser test and was not found" >&2
  exit 1
fi

# Kamailio is for the SIP tests, which start their own on free loopback ports
# (tests/fakes/kamailio.h). Debian's postinst also starts the stock service on port 5060 where
# systemd runs (the SysV script only does with RUN_KAMAILIO=yes in /etc/default/kamailio, and
# container images' policy-rc.d forbids it): when this run installs kamailio, that service is
# stopped and disabled again. A kamailio that was there before is left alone.
kamailio_was_installed=no
if dpkg-query -W -f='${Status}' kamailio 2>/dev/null | grep -q "install ok installed"; then
  kamailio_was_installed=yes
fi

bash "$(dirname "$0")/apt-install.sh" install-deps "${PACKAGES[@]}"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
with_systemd=no
if [ -d /run/systemd/system ]; then with_systemd=yes; fi

stock_kamailio_running() {
  if [ "$with_systemd" = yes ] && systemctl is-active --quiet kamailio 2>/dev/null; then
    return 0
  fi
  local pid
  pid=$(cat /run/kamailio/kamailio.pid 2>/dev/null || true)
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

if [ "$kamailio_was_installed" = no ]; then
  if stock_kamailio_running; then
    echo "install-deps: the kamailio package started its stock service on port 5060; stopping and disabling it"
    if [ "$with_systemd" = yes ]; then
      $SUDO systemctl stop kamailio
      $SUDO systemctl disable --quiet kamailio
    else
      $SUDO /etc/init.d/kamailio stop
    fi
  else
    echo "install-deps: the stock kamailio service is not running (the tests start their own)"
  fi
elif stock_kamailio_running; then
  echo "install-deps: note: a kamailio service is running (installed before; left alone)"
fi

if command -v ss >/dev/null 2>&1; then
  listeners=$(ss -H -lnut 'sport = :5060' 2>/dev/null || true)
  if [ -n "$listeners" ]; then
    echo "install-deps: note: something listens on port 5060 (the tests do not need it):"
    echo "$listeners"
  fi
fi
