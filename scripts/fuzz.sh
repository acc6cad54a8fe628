#!/usr/bin/env bash
# Builds the fuzz targets with clang and libFuzzer (ASan + UBSan) and runs them:
#   scripts/fuzz.sh <name|all> [seconds]     seconds per target, default 60; 0 only builds
# Targets are tests/fuzz/<name>_fuzz.cc: time, event_json, config, websocket, request_target,
# request_reader, pidf, dialog_info, ami_reader.
# Seeds are read from tests/fuzz/corpus/<name>/ (never written); what the fuzzer learns goes to
# build-fuzz/corpus/<name>/, crashing inputs to build-fuzz/artifacts/<name>/ (then the run
# fails). A finding, once fixed, goes into tests/fuzz/corpus/<name>/ so CTest replays it.
# Environment: JOBS (compile jobs, default 2), BUILD_DIR (default build-fuzz), CXX (a clang++).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

usage() {
  echo "usage: scripts/fuzz.sh <name|all> [seconds]  (names: $*)" >&2
  exit 2
}

available=()
for source in tests/fuzz/*_fuzz.cc; do
  name=$(basename "$source" _fuzz.cc)
  available+=("$name")
done

which=${1:-}
seconds=${2:-60}
[ -n "$which" ] || usage "${available[@]}"
[[ "$seconds" =~ ^[0-9]+$ ]] || usage "${available[@]}"
if [ "$which" = all ]; then
  targets=("${available[@]}")
elif [[ " ${available[*]} " == *" $which "* ]]; then
  targets=("$which")
else
  usage "${available[@]}"
fi

# Debian 12: clang is clang 14; libclang-rt-14-dev holds libFuzzer and the sanitizer runtimes.
bash scripts/apt-install.sh fuzz \
  clang libclang-rt-14-dev cmake ninja-build pkg-config \
  libcpprest-dev libpoco-dev libsqlitecpp-dev libsqlite3-dev libcli11-dev libboost-test-dev \
  libhowardhinnant-date-dev tzdata libssl-dev

if [ -z "${CXX:-}" ]; then
  CXX=$(command -v clang++-14 || command -v clang++)
fi
BUILD_DIR=${BUILD_DIR:-build-fuzz}
JOBS=${JOBS:-2}
launcher=()
if command -v ccache >/dev/null 2>&1; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi

# fuzzer-no-link: coverage for libFuzzer in every object; only the targets link libFuzzer's main.
flags="-g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined"
flags+=" -fno-sanitize-recover=undefined"
echo "fuzz: configuring $BUILD_DIR with $CXX"
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER="$CXX" \
  -DCMAKE_CXX_FLAGS="$flags" "${launcher[@]}" -DPRESENCE_LIBFUZZER=ON >/dev/null
echo "fuzz: compiling ${targets[*]} with -j$JOBS (the agent's libraries take a while the first time)"
nice -n 10 cmake --build "$BUILD_DIR" -j "$JOBS" --target "${targets[@]/%/_fuzz}"
if [ "$seconds" -eq 0 ]; then
  echo "fuzz: built into $BUILD_DIR/fuzz/"
  exit 0
fi

export ASAN_OPTIONS="detect_leaks=1:check_initialization_order=1"
export UBSAN_OPTIONS="print_stacktrace=1"
summary="$ROOT/$BUILD_DIR/fuzz-summary.txt"
status=0
for name in "${targets[@]}"; do
  corpus="$ROOT/$BUILD_DIR/corpus/$name"
  artifacts="$ROOT/$BUILD_DIR/artifacts/$name"
  log="$ROOT/$BUILD_DIR/fuzz-$name.log"
  mkdir -p "$corpus" "$artifacts"
  options=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
           -artifact_prefix="$artifacts/")
  if [ -f "tests/fuzz/$name.dict" ]; then options+=(-dict="tests/fuzz/$name.dict"); fi
  echo "fuzz: $name for ${seconds}s (log: $log)"
  result=0
  nice -n 10 "$BUILD_DIR/fuzz/${name}_fuzz" "${options[@]}" "$corpus" "tests/fuzz/corpus/$name" \
    >"$log" 2>&1 || result=$?
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -n 1)
  line="$(date -u +%FT%TZ) $name: ${seconds}s, ${runs:-?} execs, ${cov:-no coverage line}, exit $result"
  echo "fuzz: $line"
  echo "$line" >>"$summary"
  if [ "$result" -ne 0 ]; then
    status=1
    echo "fuzz: $name FOUND A PROBLEM; input(s) in $artifacts/:" >&2
    ls "$artifacts" >&2
    grep -m 1 -A 30 -E '^==[0-9]+==ERROR|runtime error|fuzz check failed|deadly signal' "$log" >&2 || tail -n 40 "$log" >&2
  fi
done
exit "$status"
