#!/usr/bin/env bash
# The main job on a fresh machine: install, bring up the built-in hospital-core lab, run every
# reference scenario on it (each fails something on purpose, measures every critical flow,
# restores, judges it against its SLA), write one evidence pack per scenario, print where
# the reports are, and remove the lab. Extra arguments go to pytest (e.g. -k power-loss).
set -euo pipefail
cd "$(dirname "$0")"
scripts/install.sh
exec .venv/bin/python -m pytest scenarios/ -v -p no:cacheprovider \
  --html=reports/summary.html --self-contained-html --junitxml=reports/junit.xml "$@"
