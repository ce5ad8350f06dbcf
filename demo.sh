#!/usr/bin/env bash
# The main job on a fresh machine: install, bring up the built-in hospital-core lab,
# show its state and a host-to-host check, and take it down again.
set -euo pipefail
cd "$(dirname "$0")"
scripts/install.sh
topology=topologies/hospital-core.clab.yml
trap '.venv/bin/failover lab down "$topology" >/dev/null' EXIT
.venv/bin/failover lab up "$topology"
.venv/bin/failover lab status hospital-core
.venv/bin/failover lab exec hospital-core ed ping -c 3 -i 0.2 198.19.10.10
