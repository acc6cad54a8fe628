#!/usr/bin/env bash
# The serving benchmark of issue 16, in one run, each figure next to its target:
#  - nginx (one worker, started here) answering a fixed JSON reply, under wrk (1 thread, 50
#    keep-alive connections): the ceiling of this machine;
#  - `presence-agent serve` with 1,000 users and with 100,000 users, every user given a state
#    first, under the same wrk load: durable PUT /api/v1/agents/{id}/state, each a real change;
#  - those three measured in ROUNDS rounds (nginx, 1,000, 100,000, then again), each figure
#    the median of its rounds, so a machine whose speed drifts over the minutes of a run
#    (a shared virtual machine) compares like with like; every round is printed too;
#  - idle RSS at 100,000 users, and the restart time with 100,000 users in the ledger;
#  - the live stream (build/stream_latency_bench) and the slow-client case
#    (build/slow_clients_bench) against the 1,000-user agent.
# Only the agent's public API and configuration are used, so it runs against any version.
# A benchmark, not a test: it prints PASS/MISS per figure and never fails on a timing.
#
# Usage: bench/serve_bench.sh [--agent build/presence-agent] [--seconds 10] [--rounds 3]
#          [--users 1000] [--large-users 100000] [--viewers 1000] [--rate 100] [--slow 2000]
#          [--idle 10000] [--keep]
# The other benchmark tools are taken from the agent binary's folder.
set -euo pipefail
cd "$(dirname "$0")/.."

AGENT=build/presence-agent
SECONDS_EACH=10
ROUNDS=3
USERS=1000
LARGE_USERS=100000
VIEWERS=1000
RATE=100
SLOW=2000
IDLE=10000
KEEP=0
while [ $# -gt 0 ]; do
  case "$1" in
    --agent) AGENT=$2; shift 2 ;;
    --seconds) SECONDS_EACH=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --users) USERS=$2; shift 2 ;;
    --large-users) LARGE_USERS=$2; shift 2 ;;
    --viewers) VIEWERS=$2; shift 2 ;;
    --rate) RATE=$2; shift 2 ;;
    --slow) SLOW=$2; shift 2 ;;
    --idle) IDLE=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "serve_bench: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

say() { echo "serve_bench: $*"; }

if [ ! -x "$AGENT" ]; then
  echo "serve_bench: no agent binary at $AGENT: build it first (scripts/build.sh)" >&2
  exit 2
fi
AGENT=$(cd "$(dirname "$AGENT")" && pwd)/$(basename "$AGENT")
TOOLS=$(dirname "$AGENT")

say "checking the tools it needs (wrk, nginx, jq, curl)"
scripts/apt-install.sh serve_bench wrk nginx-light jq curl
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

# Many connections at once (the slow-client case holds 12,000): the soft limit on open files
# up to the hard one, for this shell and everything it starts.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
say "open files limit $(ulimit -n)"

WORK=$(mktemp -d /tmp/serve_bench.XXXXXX)
# On exit, whatever this script started and is still running (its own background jobs only).
cleanup() {
  local pid
  for pid in $(jobs -p); do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ "$KEEP" = 1 ]; then say "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
say "working in $WORK"

# A port nobody listens on now, counting up from $1.
free_port() {
  local port=$1
  while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
  echo "$port"
}

# KEY of the first line starting with PREFIX in FILE ("RESULT requests=1 rps=2..."); "" if none.
field() {
  grep -m1 "^$2" "$1" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$3=//p" || true
}

calc() { awk "BEGIN { printf \"%s\", $1 }"; }
# num FORMAT VALUE: VALUE printed with the printf FORMAT, "n/a" when there is none.
num() { if [ -n "$2" ]; then awk "BEGIN { printf \"$1\", $2 }"; else echo n/a; fi; }
now_ms() { date +%s%3N; }

# ---- wrk ----------------------------------------------------------------------------------

# PUT state rotating over users u0..u(N-1) and the selectable labels: request i goes to user
# i % N, round r = first_round + i / N, label (user + r) % labels; so each user's next request
# names another label than its last (a real change). With prime=1 every request is of round 0
# (a user asked twice keeps its label): every user gets a state.
cat >"$WORK/put.lua" <<'EOF'
local users, prefix, token, first_round, prime
local labels = {}
local i, answers, failed = 0, 0, 0
function init(args)
  users, prefix, token = tonumber(args[1]), args[2], args[3]
  first_round, prime = tonumber(args[4]), args[5] == "1"
  for k = 6, #args do labels[#labels + 1] = args[k] end
end
function request()
  local user = i % users
  local round = prime and 0 or first_round + math.floor(i / users)
  i = i + 1
  local label = labels[(user + round) % #labels + 1]
  return wrk.format("PUT", "/api/v1/agents/" .. prefix .. user .. "/state",
                    {["Authorization"] = "Bearer " .. token,
                     ["Content-Type"] = "application/json"},
                    '{"label": "' .. label .. '"}')
end
-- Priming: once every user has had its answer, a marker file tells the script to stop wrk
-- (wrk runs for its whole duration otherwise; SIGINT ends it with its figures).
local marker = os.getenv("SERVE_BENCH_PRIMED")
if marker and marker ~= "" then
  function response(status, headers, body)
    answers = answers + 1
    if answers == users then io.open(marker, "w"):close() end
  end
end
function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local errors = summary.errors
  io.write(string.format("RESULT requests=%d seconds=%.3f rps=%.1f p50_ms=%.3f p99_ms=%.3f " ..
                         "non2xx=%d socket_errors=%d\n",
                         summary.requests, seconds, summary.requests / seconds,
                         latency:percentile(50) / 1000, latency:percentile(99) / 1000,
                         errors.status, errors.connect + errors.read + errors.write + errors.timeout))
end
EOF

mapfile -t LABELS < <(jq -r '.states[] | select(.selectable != false) | .label' \
  samples/dial-command.json)
TOKEN=serve-bench-integration-token
TOKEN_HASH=$(printf %s "$TOKEN" | sha256sum | cut -d' ' -f1)

# wrk_put OUT PORT USERS FIRST_ROUND SECONDS: the same load against any server.
wrk_put() {
  local out=$1 port=$2 users=$3 round=$4 seconds=$5
  wrk -t1 -c50 -d"${seconds}s" --timeout 10s -s "$WORK/put.lua" "http://127.0.0.1:$port" \
    -- "$users" u "$TOKEN" "$round" 0 "${LABELS[@]}" >"$out" 2>&1 || true
  sed 's/^/    /' "$out"
}

# prime OUT PORT USERS: every user once (round 0), wrk stopped once all have their answer.
prime() {
  local out=$1 port=$2 users=$3 marker=$WORK/primed-$2
  SERVE_BENCH_PRIMED=$marker wrk -t1 -c50 -d3600s --timeout 10s -s "$WORK/put.lua" \
    "http://127.0.0.1:$port" -- "$users" u "$TOKEN" 0 1 "${LABELS[@]}" >"$out" 2>&1 &
  local pid=$!
  while [ ! -e "$marker" ] && kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
  kill -INT "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  sed 's/^/    /' "$out"
}

# ---- nginx --------------------------------------------------------------------------------

NGINX_PID="" NGINX_PORT=""
# start_nginx: one worker on a free port, kept running for the rounds (stop_nginx).
start_nginx() {
  local dir=$WORK/nginx
  mkdir -p "$dir"
  NGINX_PORT=$(free_port 18080)
  cat >"$dir/nginx.conf" <<EOF
worker_processes 1;
daemon off;
master_process on;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $dir/body;
  proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi;
  scgi_temp_path $dir/scgi;
  keepalive_requests 100000000;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location / {
      default_type application/json;
      return 200 '{"status":"ok"}';
    }
  }
}
EOF
  say "nginx: one worker on 127.0.0.1:$NGINX_PORT (config $dir/nginx.conf), a fixed JSON reply"
  "$NGINX" -p "$dir" -e "$dir/error.log" -c "$dir/nginx.conf" &
  NGINX_PID=$!
  local deadline=$(($(now_ms) + 10000))
  until curl -fs -o /dev/null "http://127.0.0.1:$NGINX_PORT/"; do
    if [ "$(now_ms)" -gt "$deadline" ] || ! kill -0 "$NGINX_PID" 2>/dev/null; then
      say "nginx did not start:"; cat "$dir/error.log" >&2 || true
      NGINX_PID=""
      return 1
    fi
    sleep 0.05
  done
}

stop_nginx() {
  [ -n "$NGINX_PID" ] || return 0
  kill "$NGINX_PID" 2>/dev/null || true
  wait "$NGINX_PID" 2>/dev/null || true
}

# ---- the agent ----------------------------------------------------------------------------

# write_config DIR USERS [PORT]: the sample catalog, users u0..u(N-1), one integration token,
# the ledger in DIR/data. The server block is the sample's, with these changes (printed):
# listen on PORT (0: a free one); no per-address connection limit, since wrk opens its 50
# connections from one address (the stream and slow-client tools spread theirs over many).
write_config() {
  local dir=$1 users=$2 port=${3:-0}
  mkdir -p "$dir"
  jq --arg data "$dir/data" --argjson users "$users" --arg hash "$TOKEN_HASH" \
    --arg listen "127.0.0.1:$port" '
    .server += {listen: $listen, data_dir: $data, max_connections_per_client: 0}
    | .users = [range(0; $users) | tostring
                | {id: ("u" + .), name: ("User " + .), extension: (100000 + tonumber | tostring),
                   team: "bench"}]
    | .tokens = [{name: "serve-bench", role: "integration", sha256: $hash}]' \
    samples/dial-command.json >"$dir/presence.json"
}

AGENT_PID="" AGENT_PORT=""
# start_agent DIR: serve -c DIR/presence.json; waits for "listening on http://...:PORT".
start_agent() {
  local dir=$1
  "$AGENT" serve -c "$dir/presence.json" >"$dir/stdout" 2>>"$dir/log" &
  AGENT_PID=$!
  local deadline=$(($(now_ms) + 120000))
  AGENT_PORT=""
  while [ -z "$AGENT_PORT" ]; do
    AGENT_PORT=$(sed -n 's|^listening on http://127.0.0.1:\([0-9]*\).*|\1|p' "$dir/stdout")
    if [ -z "$AGENT_PORT" ]; then
      if [ "$(now_ms)" -gt "$deadline" ] || ! kill -0 "$AGENT_PID" 2>/dev/null; then
        say "the agent did not start; its log:"; tail -20 "$dir/log" >&2; return 1
      fi
      sleep 0.05
    fi
  done
}

stop_agent() {
  kill -TERM "$AGENT_PID" 2>/dev/null || true
  wait "$AGENT_PID" 2>/dev/null || true
}

rss_mb() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }

# wait_quiet PID NAME: after a load, waits (at most 20 s) until the agent has used under 2% of a
# core for half a second: its fold and checkpoint have caught up with what the load left, so the
# next figure measures what it says rather than the tail of the previous one.
wait_quiet() {
  local pid=$1 name=$2 started before after
  started=$(now_ms)
  if ! before=$(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null); then
    say "$name: the agent is not running"; return 0
  fi
  while [ $(($(now_ms) - started)) -lt 20000 ]; do
    sleep 0.5
    if ! after=$(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null); then
      say "$name: the agent stopped running"; return 0
    fi
    if [ $((after - before)) -le 1 ]; then
      say "$name: the agent was quiet after $(num %.1f "($(now_ms) - $started) / 1000") s"
      return 0
    fi
    before=$after
  done
  say "$name: the agent was still busy after 20 s; measuring anyway"
}

# start_and_prime DIR USERS NAME: starts the agent and gives every user a state. Leaves the
# agent running (AGENT_PID, AGENT_PORT), quiet.
start_and_prime() {
  local dir=$1 users=$2 name=$3 started
  write_config "$dir" "$users"
  say "$name: config $dir/presence.json: $users users, server $(jq -c .server "$dir/presence.json")"
  start_agent "$dir" || return 1
  say "$name: agent pid $AGENT_PID on port $AGENT_PORT; giving each of the $users users a state"
  started=$(now_ms)
  prime "$WORK/prime-$name.txt" "$AGENT_PORT" "$users"
  say "$name: primed in $(num %.1f "($(now_ms) - $started) / 1000") s" \
    "(non-2xx answers: $(field "$WORK/prime-$name.txt" RESULT non2xx))"
  wait_quiet "$AGENT_PID" "$name"
}

# next_round OUT USERS FIRST: the first round of the next load after one that started at round
# FIRST and made the requests in OUT. wrk counts the answered requests: the last of them was of
# round R = FIRST + (requests - 1) / USERS, and up to 50 more were on their way, so each user's
# last label is of round R - 1, R or R + 1; starting at R + 2 keeps every user's next request
# a change (the sample has 9 selectable labels; a gap of 1 to 3 rounds never comes back to the
# same one).
next_round() {
  local requests
  requests=$(field "$1" RESULT requests)
  echo $(($3 + (${requests:-1} - 1) / $2 + 2))
}

# load_agent ROUND PORT PID USERS FIRST_ROUND: one wrk load of an agent, then waits for it to
# go quiet. Sets LOAD_RPS and LOAD_P99 ("" without a figure), LOAD_NON2XX and LOAD_NEXT (the
# next load's first round).
load_agent() {
  local round=$1 port=$2 pid=$3 users=$4 first=$5
  local out=$WORK/wrk-$users-users-$round.txt
  wrk_put "$out" "$port" "$users" "$first" "$SECONDS_EACH"
  LOAD_NEXT=$(next_round "$out" "$users" "$first")
  LOAD_RPS=$(field "$out" RESULT rps) LOAD_P99=$(field "$out" RESULT p99_ms)
  LOAD_NON2XX=$(field "$out" RESULT non2xx)
  LOAD_NON2XX=${LOAD_NON2XX:-0}
  wait_quiet "$pid" "$users-users"
}

# median NUMBER...: the middle one, or the mean of the two in the middle; "" for none.
median() {
  [ $# -gt 0 ] || return 0
  printf '%s\n' "$@" | LC_ALL=C sort -g | awk '{ v[NR] = $1 } END {
    if (NR % 2) printf "%s", v[(NR + 1) / 2]; else printf "%.3f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# ---- the run ------------------------------------------------------------------------------

say "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
say "agent: $AGENT ($("$AGENT" --version 2>/dev/null | head -1 || echo "version unknown"))"

start_nginx || true
SMALL=$WORK/agent-$USERS SMALL_PID="" SMALL_PORT=""
if start_and_prime "$SMALL" "$USERS" "$USERS-users"; then
  SMALL_PID=$AGENT_PID SMALL_PORT=$AGENT_PORT
fi
LARGE=$WORK/agent-$LARGE_USERS LARGE_PID="" LARGE_PORT=""
if start_and_prime "$LARGE" "$LARGE_USERS" "$LARGE_USERS-users"; then
  LARGE_PID=$AGENT_PID LARGE_PORT=$AGENT_PORT
fi

# The rounds: nginx, the small agent, the large one, each under the same wrk load, and each
# agent left to catch up (fold, checkpoint) before the next load.
NGINX_RUNS=() NGINX_P99S=() S_RPS=() S_P99=() L_RPS=() L_P99=() ROUND_LINES=()
SMALL_NON2XX=0 LARGE_NON2XX=0 SMALL_ROUND=1 LARGE_ROUND=1
for round in $(seq 1 "$ROUNDS"); do
  say "round $round of $ROUNDS: wrk, 1 thread, 50 keep-alive connections, ${SECONDS_EACH} s" \
    "each: nginx, then $USERS users, then $LARGE_USERS users (durable PUT state)"
  n="" s="" l=""
  if [ -n "$NGINX_PID" ]; then
    out=$WORK/wrk-nginx-$round.txt
    wrk_put "$out" "$NGINX_PORT" "$USERS" 1 "$SECONDS_EACH"
    n=$(field "$out" RESULT rps)
    if [ -n "$n" ]; then NGINX_RUNS+=("$n"); NGINX_P99S+=("$(field "$out" RESULT p99_ms)"); fi
  fi
  if [ -n "$SMALL_PID" ]; then
    load_agent "$round" "$SMALL_PORT" "$SMALL_PID" "$USERS" "$SMALL_ROUND"
    SMALL_ROUND=$LOAD_NEXT s=$LOAD_RPS SMALL_NON2XX=$((SMALL_NON2XX + LOAD_NON2XX))
    if [ -n "$s" ]; then S_RPS+=("$s"); S_P99+=("$LOAD_P99"); fi
  fi
  if [ -n "$LARGE_PID" ]; then
    load_agent "$round" "$LARGE_PORT" "$LARGE_PID" "$LARGE_USERS" "$LARGE_ROUND"
    LARGE_ROUND=$LOAD_NEXT l=$LOAD_RPS LARGE_NON2XX=$((LARGE_NON2XX + LOAD_NON2XX))
    if [ -n "$l" ]; then L_RPS+=("$l"); L_P99+=("$LOAD_P99"); fi
  fi
  line="round $round: nginx $(num %.0f "$n") req/s, $USERS users $(num %.0f "$s")"
  if [ -n "$n" ] && [ -n "$s" ]; then line+=" ($(num %.3f "$(calc "$s / $n")")x nginx)"; fi
  line+=", $LARGE_USERS users $(num %.0f "$l")"
  if [ -n "$s" ] && [ -n "$l" ]; then line+=" ($(num %.3f "$(calc "$l / $s")")x)"; fi
  ROUND_LINES+=("$line")
  say "$line"
done
stop_nginx
NGINX_RPS=$(median "${NGINX_RUNS[@]}") NGINX_P99=$(median "${NGINX_P99S[@]}")
SMALL_RPS=$(median "${S_RPS[@]}") SMALL_P99=$(median "${S_P99[@]}")
LARGE_RPS=$(median "${L_RPS[@]}") LARGE_P99=$(median "${L_P99[@]}")
# A round without a figure fails its row rather than vanish from the median.
[ ${#S_RPS[@]} -eq "$ROUNDS" ] || SMALL_NON2XX=$((SMALL_NON2XX + 1))
[ ${#L_RPS[@]} -eq "$ROUNDS" ] || LARGE_NON2XX=$((LARGE_NON2XX + 1))
LARGE_RSS="" RESTART_S="" RESTART_CHECK=""

if [ -n "$SMALL_PID" ]; then
  AGENT_PID=$SMALL_PID AGENT_PORT=$SMALL_PORT
  if [ -x "$TOOLS/stream_latency_bench" ]; then
    say "stream: $VIEWERS SSE viewers, $RATE changes/s for ${SECONDS_EACH} s ($TOOLS/stream_latency_bench)"
    "$TOOLS/stream_latency_bench" --port "$AGENT_PORT" --token "$TOKEN" --users "$USERS" \
      --viewers "$VIEWERS" --rate "$RATE" --seconds "$SECONDS_EACH" \
      >"$WORK/stream.txt" 2>&1 || true
    sed 's/^/    /' "$WORK/stream.txt"
  else
    say "stream: $TOOLS/stream_latency_bench not built (ninja -C build stream_latency_bench)"
  fi
  if [ -x "$TOOLS/slow_clients_bench" ]; then
    say "slow clients: $SLOW slow + $IDLE idle connections, a normal client for" \
      "${SECONDS_EACH} s ($TOOLS/slow_clients_bench)"
    "$TOOLS/slow_clients_bench" --port "$AGENT_PORT" --token "$TOKEN" --users "$USERS" \
      --slow "$SLOW" --idle "$IDLE" --seconds "$SECONDS_EACH" >"$WORK/slow.txt" 2>&1 || true
    sed 's/^/    /' "$WORK/slow.txt"
  else
    say "slow clients: $TOOLS/slow_clients_bench not built (ninja -C build slow_clients_bench)"
  fi
  stop_agent
fi

if [ -n "$LARGE_PID" ]; then
  AGENT_PID=$LARGE_PID AGENT_PORT=$LARGE_PORT
  # Idle: quiet, then 3 s more (the ledger gives back its page cache after 2 s without a
  # change, the allocator its free pages a second later).
  wait_quiet "$AGENT_PID" "$LARGE_USERS-users"
  sleep 3
  LARGE_RSS=$(rss_mb "$AGENT_PID")
  LAST=u$((LARGE_USERS - 1))
  BEFORE=$(curl -fs -H "Authorization: Bearer $TOKEN" \
    "http://127.0.0.1:$AGENT_PORT/api/v1/agents/$LAST" | jq -r .state.label)
  say "$LARGE_USERS users: idle VmRSS $LARGE_RSS MB; stopping (SIGTERM) for the restart"
  stop_agent
  # The restart on a port chosen now (the old one may linger), polled every 10 ms from the
  # moment the process starts until GET /api/v1/health answers 200.
  RESTART_PORT=$(free_port 18500)
  jq --arg listen "127.0.0.1:$RESTART_PORT" '.server.listen = $listen' "$LARGE/presence.json" \
    >"$LARGE/restart.json" && mv "$LARGE/restart.json" "$LARGE/presence.json"
  say "$LARGE_USERS users: restart on port $RESTART_PORT with $(du -sh "$LARGE/data" | cut -f1)" \
    "of ledger; polling /api/v1/health every 10 ms"
  started=$(now_ms)
  "$AGENT" serve -c "$LARGE/presence.json" >"$LARGE/stdout" 2>>"$LARGE/log" &
  AGENT_PID=$!
  until curl -fs -o /dev/null --max-time 5 "http://127.0.0.1:$RESTART_PORT/api/v1/health"; do
    if ! kill -0 "$AGENT_PID" 2>/dev/null || [ $(($(now_ms) - started)) -gt 120000 ]; then
      say "the restarted agent did not answer; its log:"; tail -20 "$LARGE/log" >&2
      break
    fi
    sleep 0.01
  done
  if kill -0 "$AGENT_PID" 2>/dev/null; then
    RESTART_S=$(calc "($(now_ms) - $started) / 1000")
    AFTER=$(curl -fs -H "Authorization: Bearer $TOKEN" \
      "http://127.0.0.1:$RESTART_PORT/api/v1/agents/$LAST" | jq -r .state.label)
    RESTART_CHECK="$LAST: '$BEFORE' before, '$AFTER' after"
    say "$LARGE_USERS users: first 200 from /api/v1/health after $RESTART_S s ($RESTART_CHECK)"
  fi
  stop_agent
fi

# ---- the table ----------------------------------------------------------------------------

# verdict OK: PASS when the awk condition holds, MISS otherwise (or without a figure).
verdict() { if [ -n "$1" ] && awk "BEGIN { exit !($2) }"; then echo PASS; else echo MISS; fi; }
row() { printf '%-42s %-52s %-28s %s\n' "$1" "$2" "$3" "$4"; }
or_na() { if [ -n "$1" ]; then echo "$1"; else echo "n/a"; fi; }

S_RATIO="" L_RATIO=""
[ -n "$SMALL_RPS" ] && [ -n "$NGINX_RPS" ] && S_RATIO=$(calc "$SMALL_RPS / $NGINX_RPS")
[ -n "$LARGE_RPS" ] && [ -n "$SMALL_RPS" ] && L_RATIO=$(calc "$LARGE_RPS / $SMALL_RPS")
ST_P99=$(field "$WORK/stream.txt" "RESULT stream" p99_ms)
ST_P50=$(field "$WORK/stream.txt" "RESULT stream" p50_ms)
ST_MAX=$(field "$WORK/stream.txt" "RESULT stream" max_ms)
ST_MISSED=$(field "$WORK/stream.txt" "RESULT stream" missed)
ST_LIVE=$(field "$WORK/stream.txt" "RESULT stream" live)
N_P99=$(field "$WORK/slow.txt" "RESULT normal" p99_ms)
N_FAILED=$(field "$WORK/slow.txt" "RESULT normal" failed)
N_REQUESTS=$(field "$WORK/slow.txt" "RESULT normal" requests)
SLOW_REFUSED=$(field "$WORK/slow.txt" "RESULT slow" refused)
IDLE_REFUSED=$(field "$WORK/slow.txt" "RESULT idle" refused)
IDLE_UNANSWERED=$(field "$WORK/slow.txt" "RESULT idle" unanswered)
SLOW_CLOSED=$(field "$WORK/slow.txt" "RESULT slow" closed)
IDLE_CLOSED=$(field "$WORK/slow.txt" "RESULT idle" closed)

echo
say "results ($(nproc) cores, load average now $(cut -d' ' -f1-3 /proc/loadavg);" \
  "wrk 1 thread, 50 connections, ${SECONDS_EACH} s each; nginx and PUT: medians of $ROUNDS rounds)"
row "figure" "measured" "target" "verdict"
row "nginx, 1 worker, fixed JSON" "$(num %.0f "$NGINX_RPS") req/s, p99 $(num %.1f "$NGINX_P99") ms" \
  "(the reference)" ""
for line in "${ROUND_LINES[@]}"; do say "$line"; done
row "PUT state, $USERS users (durable)" \
  "$(num %.0f "$SMALL_RPS") req/s, p99 $(num %.1f "$SMALL_P99") ms, $(num %.2f "$S_RATIO")x nginx" \
  ">= 0.25x nginx" "$(verdict "$S_RATIO" "$S_RATIO >= 0.25 && ${SMALL_NON2XX:-1} == 0")"
row "PUT state, $LARGE_USERS users (durable)" \
  "$(num %.0f "$LARGE_RPS") req/s, p99 $(num %.1f "$LARGE_P99") ms, $(num %.2f "$L_RATIO")x the ${USERS}-user rate" \
  ">= 0.8x the $USERS-user rate" "$(verdict "$L_RATIO" "$L_RATIO >= 0.8 && ${LARGE_NON2XX:-1} == 0")"
row "idle RSS, $LARGE_USERS users, all changed" "$(num %.0f "$LARGE_RSS") MB" "<= 200 MB" \
  "$(verdict "$LARGE_RSS" "$LARGE_RSS <= 200")"
row "restart, $LARGE_USERS users in the ledger" "$(num %.2f "$RESTART_S") s to the first 200" \
  "<= 2 s" "$(verdict "$RESTART_S" "$RESTART_S <= 2")"
row "stream, $VIEWERS viewers, $RATE changes/s" \
  "p99 $(num %.1f "$ST_P99") ms (p50 $(num %.1f "$ST_P50"), max $(num %.0f "$ST_MAX")), missed $(or_na "$ST_MISSED")" \
  "p99 <= 10 ms" \
  "$(verdict "$ST_P99" "$ST_P99 <= 10 && ${ST_MISSED:-1} == 0 && ${ST_LIVE:-0} == $VIEWERS")"
row "slow clients: $SLOW slow + $IDLE idle" \
  "normal p99 $(num %.1f "$N_P99") ms, $(or_na "$N_FAILED")/$(or_na "$N_REQUESTS") failed" \
  "p99 < 50 ms, none refused" \
  "$(verdict "$N_P99" "$N_P99 < 50 && ${N_FAILED:-1} == 0 && ${SLOW_REFUSED:-1} == 0 && ${IDLE_REFUSED:-1} == 0 && ${IDLE_UNANSWERED:-1} == 0")"
row "" "  refused: slow $(or_na "$SLOW_REFUSED"), idle $(or_na "$IDLE_REFUSED") (+$(or_na "$IDLE_UNANSWERED") unanswered);" "" ""
row "" "  closed by the agent: slow $(or_na "$SLOW_CLOSED"), idle $(or_na "$IDLE_CLOSED")" "" ""
if [ -n "$RESTART_CHECK" ]; then say "restart kept the state: $RESTART_CHECK"; fi
say "the agent's server block: max_connections_per_client 0 (wrk's 50 connections share one" \
  "address); everything else as in samples/dial-command.json (workers 64) and the defaults"
