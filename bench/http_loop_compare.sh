#!/usr/bin/env bash
# Runs the event-loop candidates of bench/http_loop_compare.cc under wrk, next to nginx, and
# prints one table (issue 16; the figures and what they mean are in bench/http_loop_compare.md).
#  - nginx (Debian's, one worker, its own configuration in a temporary directory) answers a
#    fixed JSON body: the reference every ratio is taken to, measured in the same round;
#  - each variant on 1 and 2 loop threads, GET (a fixed JSON body) and the hot path (PUT
#    /api/v1/agents/{id}/state through the batching core thread);
#  - wrk: 1 thread, 50 keep-alive connections, 10 s after a 1 s warm-up; every case in every
#    round, the rounds one after the other, so both runs of a case see the machine at two times;
#  - then the memory of 10,000 idle keep-alive connections (one request answered on each):
#    the server's VmRSS before and after.
# Needs wrk and nginx (apt-get install wrk nginx-light) and python3 (for a free port).
#
# Usage: bench/http_loop_compare.sh [BUILD_DIR]
# Environment: DURATION (s, 10), ROUNDS (2), CONNECTIONS (50), IDLE (10000), SKIP_MEMORY=1.
set -euo pipefail

build=${1:-build}
bin=$build/http_loop_compare
duration=${DURATION:-10}
rounds=${ROUNDS:-2}
connections=${CONNECTIONS:-50}
idle=${IDLE:-10000}
variants=(asio reactor epoll_beast epoll_poco)
fixed_body='{"status":"ok","service":"presence-agent","version":"0.1.0","users":1000}'
ticks=$(getconf CLK_TCK)

cd "$(dirname "$0")/.."
echo "http_loop_compare: checking the tools it needs (wrk, nginx, python3)"
scripts/apt-install.sh http_loop_compare wrk nginx-light python3
if [ ! -x "$bin" ]; then
  echo "http_loop_compare: building $bin"
  cmake --build "$build" --target http_loop_compare
fi

work=$(mktemp -d)
server_pid=""
idle_pid=""
stop() {  # stop PID: SIGTERM, then wait for it
  if [[ -n $1 ]]; then kill -TERM "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; fi
}
cleanup() {
  stop "$idle_pid"
  stop "$server_pid"
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wrk scripts: done() prints "RESULT requests/s p99_ms requests errors".
cat >"$work/done.lua" <<'EOF'
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %.0f %.2f %d %d\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(99) / 1000, summary.requests,
    e.connect + e.read + e.write + e.status + e.timeout))
end
EOF
cp "$work/done.lua" "$work/get.lua"
# 1,000 users, each alternating two labels; bodies of about 40 bytes.
cat "$work/done.lua" - >"$work/put.lua" <<'EOF'
local requests = {}
local next_request = 1
init = function(args)
  for i = 0, 1999 do
    local label = i < 1000 and "Lunch" or "Break"
    requests[i + 1] = wrk.format("PUT", "/api/v1/agents/u" .. (i % 1000) .. "/state",
      { ["Content-Type"] = "application/json" }, '{"label":"' .. label .. '","source":"phone"}')
  end
end
request = function()
  local r = requests[next_request]
  next_request = next_request % #requests + 1
  return r
end
EOF

start_nginx() {  # sets server_pid (the master) and port
  port=$(free_port)
  mkdir -p "$work/nginx"
  cat >"$work/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
worker_rlimit_nofile 20000;
events { worker_connections 12000; }
http {
  access_log off;
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi;
  scgi_temp_path $work/nginx/scgi;
  keepalive_requests 100000000;  # the default (1000) would reconnect wrk now and then
  keepalive_timeout 600s;
  server {
    listen 127.0.0.1:$port;
    location / { default_type application/json; return 200 '$fixed_body'; }
  }
}
EOF
  nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -e "$work/nginx/error.log" &
  server_pid=$!
  wait_for_port
}

start_server() {  # VARIANT THREADS; sets server_pid and port
  rm -f "$work/server.out"  # not the last server's port
  "$bin" serve --variant "$1" --threads "$2" >"$work/server.out" 2>"$work/server.err" &
  server_pid=$!
  port=""
  for _ in $(seq 100); do
    port=$(awk '/^port/ { print $2 }' "$work/server.out")
    [[ -n $port ]] && break
    sleep 0.05
  done
  wait_for_port
}

wait_for_port() {
  for _ in $(seq 100); do
    (: <"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return
    sleep 0.05
  done
  echo "nothing listens on $port" >&2
  exit 1
}

# The process that serves: nginx's worker, or our server.
serving_pid() {
  local worker
  worker=$(pgrep -P "$server_pid" -f "nginx: worker" || true)
  echo "${worker:-$server_pid}"
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }

# WORKLOAD: a 1 s warm-up, then the measurement; prints "requests/s p99 cpu_us_per_request".
measure() {
  local script=$work/$1.lua pid before after result
  wrk -t1 -c"$connections" -d1s -s "$script" "http://127.0.0.1:$port/" >/dev/null
  pid=$(serving_pid)
  before=$(cpu_ticks "$pid")
  result=$(wrk -t1 -c"$connections" -d"${duration}s" --timeout 5s -s "$script" \
    "http://127.0.0.1:$port/" | awk '/^RESULT/ { print $2, $3, $4, $5 }')
  after=$(cpu_ticks "$pid")
  read -r rps p99 requests errors <<<"$result"
  if ((errors > 0)); then echo "  ($errors errors)" >&2; fi
  echo "$rps $p99 $(awk -v t="$((after - before))" -v hz="$ticks" -v n="$requests" \
    'BEGIN { printf "%.1f", (n > 0 ? t * 1e6 / hz / n : 0) }')"
}

# "jobs per core batch" from the server's last words.
batch_size() {
  awk '/^core:/ { if ($4 > 0) printf "%.1f", $4 / $2; else printf "-" }' "$work/server.err"
}

declare -A result batch load
cases=()
for variant in "${variants[@]}"; do
  for threads in 1 2; do
    for workload in get put; do cases+=("$variant $threads $workload"); done
  done
done

for round in $(seq "$rounds"); do
  load[$round]=$(uptime | sed 's/.*load average: //')
  echo "round $round, load average ${load[$round]}" >&2
  start_nginx
  result["nginx 1 get $round"]=$(measure get)
  stop "$server_pid"
  server_pid=""
  for c in "${cases[@]}"; do
    read -r variant threads workload <<<"$c"
    start_server "$variant" "$threads"
    result["$c $round"]=$(measure "$workload")
    stop "$server_pid"
    server_pid=""
    batch["$c $round"]=$(batch_size)
    echo "  $c: ${result["$c $round"]}" >&2
  done
done

echo
echo "wrk -t1 -c$connections -d${duration}s on loopback, $(nproc) cores; load average at the" \
  "start of each round: $(for r in $(seq "$rounds"); do printf '%s; ' "${load[$r]}"; done)"
echo "Each cell: round 1 / round 2 ... ; ratio to nginx's fixed reply in the same round."
echo
echo "| variant | threads | workload | requests/s | p99 ms | x nginx | server CPU us/request | jobs per core batch |"
echo "|---|---|---|---|---|---|---|---|"
for c in "nginx 1 get" "${cases[@]}"; do
  read -r variant threads workload <<<"$c"
  rps="" p99="" ratio="" cpu="" jobs=""
  for round in $(seq "$rounds"); do
    read -r r p u <<<"${result["$c $round"]}"
    read -r n _ <<<"${result["nginx 1 get $round"]}"
    sep=${rps:+ / }
    rps+="$sep$r"
    p99+="$sep$p"
    ratio+="$sep$(awk -v a="$r" -v b="$n" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')"
    cpu+="$sep$u"
    jobs+="$sep${batch["$c $round"]:--}"
  done
  [[ $workload == put ]] && workload="PUT state" || workload="GET fixed"
  echo "| $variant | $threads | $workload | $rps | $p99 | $ratio | $cpu | $jobs |"
done

[[ ${SKIP_MEMORY:-} == 1 ]] && exit 0
echo
echo "$idle idle keep-alive connections, one GET answered on each: VmRSS of the serving process"
echo
echo "| variant | threads | RSS before (KiB) | RSS with the connections (KiB) | bytes per connection | connections |"
echo "|---|---|---|---|---|---|"
for c in "nginx 1" "asio 1" "asio 2" "reactor 1" "reactor 2" "epoll_beast 1" "epoll_beast 2" \
  "epoll_poco 1" "epoll_poco 2"; do
  read -r variant threads <<<"$c"
  if [[ $variant == nginx ]]; then start_nginx; else start_server "$variant" "$threads"; fi
  pid=$(serving_pid)
  before=$(rss_kb "$pid")
  rm -f "$work/idle.out"
  "$bin" idle --port "$port" --connections "$idle" >"$work/idle.out" &
  idle_pid=$!
  for _ in $(seq 1200); do
    grep -qs '^ready' "$work/idle.out" && break
    sleep 0.1
  done
  sleep 0.5  # let the loops finish what they were doing when the last answer left
  after=$(rss_kb "$pid")
  opened=$(awk '/^ready/ { print $2 }' "$work/idle.out")
  echo "| $variant | $threads | $before | $after | $(((after - before) * 1024 / (opened > 0 ? opened : 1))) | $opened |"
  stop "$idle_pid"
  idle_pid=""
  stop "$server_pid"
  server_pid=""
done
