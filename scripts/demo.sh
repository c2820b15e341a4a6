#!/usr/bin/env bash
# The main job: installs what is missing, builds, makes a demo town in ./demo-town whose agents
# are gt's built-in simulated agent, starts its daemon on a private tmux server, kills one agent
# and watches the daemon bring it back, then stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
dir=$(scripts/build.sh)
gt="$PWD/$dir/cmd/gt/gt"
town="$PWD/demo-town"
export GT_TMUX_SOCKET=gt-demo # a private tmux server: your own sessions are not touched
tmux() { command tmux -L "$GT_TMUX_SOCKET" "$@"; }

# A fresh demo town each run.
if [ -f "$town/mayor/town.json" ]; then
  "$gt" --town "$town" daemon stop >/dev/null || true
fi
tmux kill-server 2>/dev/null || true
rm -rf "$town"
"$gt" init "$town" --demo --name demo

pane_pid() { tmux list-panes -t "=$1:" -F '#{pane_dead} #{pane_pid}' 2>/dev/null | awk '$1 == 0 {print $2}'; }
wait_for() { # wait_for SECONDS COMMAND...: polls until COMMAND succeeds
  local end=$((SECONDS + $1)); shift
  until "$@"; do
    [ $SECONDS -lt $end ] || { echo "timed out waiting for: $*" >&2; return 1; }
    sleep 0.2
  done
}
all_running() { [ "$("$gt" --town "$town" agent list --json | grep -c '"alive": true')" -eq 5 ]; }

echo "== start the daemon (heartbeat every 5s in the demo town)"
"$gt" --town "$town" daemon start
wait_for 20 all_running
"$gt" --town "$town" agent list

old=$(pane_pid gt-demo-witness)
echo "== kill the witness agent (pid $old) and wait for the next heartbeat to restart it"
kill -9 "$old"
restarted() { local p; p=$(pane_pid gt-demo-witness); [ -n "$p" ] && [ "$p" != "$old" ]; }
wait_for 20 restarted
echo "witness is back with pid $(pane_pid gt-demo-witness)"
wait_for 20 all_running
"$gt" --town "$town" agent list
"$gt" --town "$town" daemon status
"$gt" --town "$town" daemon logs -n 12

echo "== stop the daemon (agents keep running without it), then end the demo's tmux server"
"$gt" --town "$town" daemon stop
tmux kill-server
