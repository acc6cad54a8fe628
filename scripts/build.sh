#!/usr/bin/env bash
# Configures and builds everything into build/ (or $BUILD_DIR). Warnings are errors under CI.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo}
echo "build: configuring $BUILD_DIR ($BUILD_TYPE)"
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="$BUILD_TYPE" >/dev/null
echo "build: compiling (this takes a few minutes the first time)"
cmake --build "$BUILD_DIR"
echo "build: done: $BUILD_DIR/presence-agent"
