#!/usr/bin/env bash
# The run command: installs what is missing, builds, and starts the agent on the sample
# configuration with its embedded SQLite ledger (var/data/presence.db) and the traffic
# simulator, then prints the dashboard address and a supervisor token, and the agent page's
# address with user 1001's token. Ctrl-C stops both.
#   PORT=8080 (default)   the port to listen on (127.0.0.1)
#   SIMULATE=0            start without the simulator
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
BUILD_DIR=${BUILD_DIR:-build}
AGENT="$BUILD_DIR/presence-agent"
PORT=${PORT:-8080}
mkdir -p var
CONFIG=var/presence.json

# A local copy of the sample with this machine's tokens. The tokens themselves are kept in
# var/tokens.env (readable by you only); the configuration stores only their hashes.
if [ ! -f "$CONFIG" ] || [ ! -f var/tokens.env ]; then
  echo "run: creating $CONFIG with new tokens (var/tokens.env)"
  sed "s/\"listen\": \"127.0.0.1:8080\"/\"listen\": \"127.0.0.1:$PORT\"/" samples/dial-command.json > "$CONFIG"
  umask 077
  {
    echo "SUPERVISOR_TOKEN=$("$AGENT" token --role supervisor --name supervisor --add-to "$CONFIG")"
    echo "INTEGRATION_TOKEN=$("$AGENT" token --role integration --name simulator --add-to "$CONFIG")"
    echo "ADMIN_TOKEN=$("$AGENT" token --role admin --name admin --add-to "$CONFIG")"
  } > var/tokens.env
fi
# The agent page's token, for user 1001 (added to configurations made before the page existed).
if ! grep -q '^AGENT_TOKEN=' var/tokens.env; then
  echo "run: adding an agent token for user 1001 (var/tokens.env)"
  (umask 077; echo "AGENT_TOKEN=$("$AGENT" token --role agent --user 1001 --name agent-1001 --add-to "$CONFIG")" >> var/tokens.env)
fi
# The port of this run (the file may come from a run on another port).
sed -i "s/\"listen\": *\"127.0.0.1:[0-9]*\"/\"listen\": \"127.0.0.1:$PORT\"/" "$CONFIG"
# shellcheck disable=SC1091
source var/tokens.env
"$AGENT" check-config -c "$CONFIG"

cleanup() {
  [ -n "${SIM_PID:-}" ] && kill "$SIM_PID" 2>/dev/null || true
  [ -n "${AGENT_PID:-}" ] && kill -TERM "$AGENT_PID" 2>/dev/null && wait "$AGENT_PID" 2>/dev/null || true
}
trap cleanup EXIT INT TERM

echo "run: starting the agent (log: var/agent.log)"
"$AGENT" serve -c "$CONFIG" > var/agent.out 2> var/agent.log &
AGENT_PID=$!
for _ in $(seq 1 100); do
  if grep -q "^listening on" var/agent.out 2>/dev/null; then break; fi
  if ! kill -0 "$AGENT_PID" 2>/dev/null; then cat var/agent.log; exit 1; fi
  sleep 0.1
done
URL=$(sed -n 's/^listening on //p' var/agent.out)
[ -n "$URL" ] || { echo "run: the agent did not start"; cat var/agent.log; exit 1; }

if [ "${SIMULATE:-1}" != "0" ]; then
  echo "run: starting the simulator (log: var/simulator.log)"
  "$AGENT" simulate --url "$URL" --token "$INTEGRATION_TOKEN" --agents 12 --rate 2 > var/simulator.log 2>&1 &
  SIM_PID=$!
fi

cat <<INFO

  Presence Agent is running.
  Dashboard:         $URL/
  Supervisor token:  $SUPERVISOR_TOKEN
  Agent page:        $URL/agent/   (user 1001's token: $AGENT_TOKEN)
  API:               $URL/api/v1/   (OpenAPI: $URL/api/v1/openapi.json)
  Try:               curl -H "Authorization: Bearer \$SUPERVISOR_TOKEN" $URL/api/v1/agents
                     (the tokens are in var/tokens.env)

  Ctrl-C stops the agent and the simulator.
INFO
wait "$AGENT_PID"
