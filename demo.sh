#!/usr/bin/env bash
# The main job on a fresh machine: install, then fail core1 of the built-in hospital-core lab
# (brought up and removed by the run), measure every critical flow, restore, give verdicts.
set -euo pipefail
cd "$(dirname "$0")"
scripts/install.sh
exec .venv/bin/failover run scenarios/core1-power-loss.yml "$@"
