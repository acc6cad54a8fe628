#!/usr/bin/env bash
# Builds the Debian package: build/presence-agent_<version>_<arch>.deb (BUILD_DIR for another
# build folder). Installs what is missing to build (dpkg-dev brings dpkg-shlibdeps, which turns
# the libraries the binary links into the package's dependencies), builds the binary and its
# manual page, and runs CPack. Install the result with `sudo apt install ./build/presence-agent_*.deb`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/apt-install.sh package \
  build-essential dpkg-dev cmake ninja-build pkg-config \
  libcpprest-dev libpoco-dev libsqlitecpp-dev libsqlite3-dev libcli11-dev libboost-test-dev \
  libhowardhinnant-date-dev tzdata libssl-dev libre-dev libjemalloc-dev
BUILD_DIR=${BUILD_DIR:-build}
BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo}
launcher=()
if command -v ccache >/dev/null 2>&1; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
echo "package: configuring $BUILD_DIR ($BUILD_TYPE)"
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="$BUILD_TYPE" "${launcher[@]}" >/dev/null
echo "package: compiling presence-agent and its manual page"
cmake --build "$BUILD_DIR" --target presence-agent presence_agent_man
echo "package: running cpack (DEB)"
(cd "$BUILD_DIR" && cpack -G DEB)
# The newest, should older versions lie beside it.
# shellcheck disable=SC2012
deb=$(ls -t "$BUILD_DIR"/presence-agent_*.deb | head -n 1)
echo "package: $deb ($(du -h "$deb" | cut -f1))"
dpkg-deb --field "$deb" Package Version Architecture Depends
