#!/usr/bin/env bash
# The test command: installs what is missing, builds, and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
BUILD_DIR=${BUILD_DIR:-build}
echo "test: running the test suite"
cd "$BUILD_DIR"
ctest --output-on-failure -j "$(nproc)"
