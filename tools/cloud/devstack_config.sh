#!/bin/bash
# Runs the devstack plugin's configure functions (named as arguments) over
# the files that NOVA_CONF and NOVA_CPU_CONF name, with devstack's iniset,
# iniget and iniadd (inc/ini-config) done by tools/cloud/ini.py.
set -eo pipefail

function iniset {
    "$PYTHON" "$REPOSITORY/tools/cloud/ini.py" set "$@"
}
function iniadd {
    "$PYTHON" "$REPOSITORY/tools/cloud/ini.py" add "$@"
}
function iniget {
    "$PYTHON" "$REPOSITORY/tools/cloud/ini.py" get "$@"
}

steps=("$@")
set --
# devstack's own; the plugin's settings derive its directory from it
DEST=$(dirname "$REPOSITORY")
POWERKVM_NOVA_DIR=$REPOSITORY
# shellcheck source=/dev/null
source "$REPOSITORY/devstack/settings"
# shellcheck source=/dev/null
source "$REPOSITORY/devstack/plugin.sh"
for step in "${steps[@]}"; do
    "$step"
done
