#!/usr/bin/env bash
# The run command: installs what is missing, builds, and runs the agent's main job on the
# sample configuration: validate the samples, print the picklist, replay the sample day into
# the embedded SQLite ledger (var/presence.db) and print that day's time report.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
BUILD_DIR=${BUILD_DIR:-build}
AGENT="$BUILD_DIR/presence-agent"
CONFIG=${CONFIG:-samples/dial-command.json}

echo
echo "== check-config: every sample configuration"
for config in samples/*.json; do "$AGENT" check-config -c "$config"; done

echo
echo "== states: the picklist of $CONFIG"
"$AGENT" states -c "$CONFIG"

echo
echo "== replay: samples/day.jsonl into var/presence.db"
mkdir -p var
rm -f var/presence.db var/presence.db-wal var/presence.db-shm
"$AGENT" replay -c "$CONFIG" samples/day.jsonl --db var/presence.db

echo
echo "== report: time per user per state from the ledger, as CSV"
"$AGENT" report --db var/presence.db --from 2026-11-20T00:00:00Z --to 2026-11-21T00:00:00Z --format csv
