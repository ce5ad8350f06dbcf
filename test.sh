#!/usr/bin/env bash
# Install (if needed) and run the whole test suite, real-lab tests included.
set -euo pipefail
cd "$(dirname "$0")"
scripts/install.sh >/dev/null
exec .venv/bin/python -m pytest "$@"
