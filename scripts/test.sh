#!/usr/bin/env bash
# The test command: installs what is missing, builds, and runs every test: the C++ suites
# (CTest) and the browser tests of the dashboard and the agent page (Chromium driven by
# playwright-core, Node's runner).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
bash scripts/install-deps.sh
bash scripts/build.sh
BUILD_DIR=${BUILD_DIR:-build}
AGENT_BIN=$(realpath "$BUILD_DIR/presence-agent")

echo "test: running the C++ test suites"
(cd "$BUILD_DIR" && ctest --output-on-failure -j "$(nproc)")

echo "test: browser tests of the dashboard and the agent page"
cd "$ROOT/tests/browser"
npm ci --no-audit --no-fund
# The picture for the README is taken by hand (see tests/browser/README.md); routine runs
# put theirs in the build folder.
DASHBOARD_SCREENSHOT=${DASHBOARD_SCREENSHOT:-$ROOT/$BUILD_DIR/dashboard-screenshot.png} \
  PRESENCE_AGENT_BINARY="$AGENT_BIN" node --test dashboard.test.mjs
PRESENCE_AGENT_BINARY="$AGENT_BIN" node --test agent.test.mjs
