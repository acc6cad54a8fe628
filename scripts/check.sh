#!/usr/bin/env bash
# Sanitizer runs of the C++ test suites, one command each:
#   scripts/check.sh asan   AddressSanitizer + UndefinedBehaviorSanitizer (+ LeakSanitizer), build-asan/
#   scripts/check.sh tsan   ThreadSanitizer, build-tsan/
# Extra arguments go to ctest (e.g. `scripts/check.sh tsan -R api_test`).
# Environment: JOBS (compile jobs, default 2), CTEST_JOBS (default 2), BUILD_DIR (default build-<kind>).
# Every sanitizer writes its reports to <build dir>/sanitizer-logs/, also from the agent processes
# the end-to-end tests start; the run fails if any suite fails or any report was written.
# What is suppressed and why: scripts/sanitizers/*.supp and README "Sanitizers and fuzzing".
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

kind=${1:-}
case "$kind" in
  asan)
    build_type=Debug
    flags="-O1 -fsanitize=address,undefined -fno-omit-frame-pointer"
    ;;
  tsan)
    build_type=Debug
    flags="-O1 -fsanitize=thread -fno-omit-frame-pointer"
    ;;
  *)
    echo "usage: scripts/check.sh asan|tsan [ctest arguments...]" >&2
    exit 2
    ;;
esac
shift

# g++ 12 ships the sanitizer runtimes as these packages (build-essential pulls them in on Debian 12).
bash scripts/apt-install.sh check \
  build-essential cmake ninja-build pkg-config \
  libcpprest-dev libpoco-dev libsqlitecpp-dev libsqlite3-dev libcli11-dev libboost-test-dev \
  libhowardhinnant-date-dev tzdata libssl-dev openssl \
  libasan8 libubsan1 liblsan0 libtsan2

BUILD_DIR=${BUILD_DIR:-build-$kind}
JOBS=${JOBS:-2}
CTEST_JOBS=${CTEST_JOBS:-2}
launcher=()
if command -v ccache >/dev/null 2>&1; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  echo "check: using ccache"
fi

echo "check: configuring $BUILD_DIR ($kind: $flags)"
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="$build_type" \
  -DCMAKE_CXX_FLAGS="$flags" "${launcher[@]}" >/dev/null
echo "check: compiling with -j$JOBS (ASan takes about 20 min, TSan about 10 min on 2 cores, from scratch)"
nice -n 10 cmake --build "$BUILD_DIR" -j "$JOBS"

logs="$ROOT/$BUILD_DIR/sanitizer-logs"
rm -rf "$logs"
mkdir -p "$logs"
supp="$ROOT/scripts/sanitizers"
# log_path sends each process's reports to <logs>/<tool>.<pid>, so a report from an agent
# process started by an end-to-end test is not lost in a captured stderr.
export ASAN_OPTIONS="log_path=$logs/asan:detect_leaks=1:check_initialization_order=1:strict_init_order=1:detect_stack_use_after_return=1"
export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="log_path=$logs/ubsan:suppressions=$supp/ubsan.supp:print_stacktrace=1:halt_on_error=1"
export TSAN_OPTIONS="log_path=$logs/tsan:suppressions=$supp/tsan.supp:second_deadlock_stack=1:history_size=4"

echo "check: running the C++ test suites under $kind (ctest -j$CTEST_JOBS)"
status=0
(cd "$BUILD_DIR" && nice -n 10 ctest --output-on-failure -j "$CTEST_JOBS" "$@") || status=$?

reports=$(find "$logs" -type f | sort)
if [ -n "$reports" ]; then
  echo "check: sanitizer reports were written:"
  for report in $reports; do
    echo "==== $report"
    head -n 80 "$report"
  done
  status=1
fi
if [ "$status" -ne 0 ]; then
  echo "check: $kind FAILED"
  exit "$status"
fi
echo "check: $kind clean"
