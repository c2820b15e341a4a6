#!/usr/bin/env bash
# The main job: installs what is missing, builds, makes a town in ./demo-town, starts its
# daemon, shows its status and log, and stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
dir=$(scripts/build.sh)
gt="$PWD/$dir/cmd/gt/gt"
town="$PWD/demo-town"

if [ ! -f "$town/mayor/town.json" ]; then
  "$gt" init "$town" --name demo
  "$gt" --town "$town" rig add demo
fi
set -x
"$gt" --town "$town" daemon start
"$gt" --town "$town" daemon status
"$gt" --town "$town" daemon logs -n 5
"$gt" --town "$town" daemon stop
