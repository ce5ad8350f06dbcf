#!/usr/bin/env bash
# Install everything the harness needs on a fresh Debian 12 machine (as root), idempotently:
# Debian packages (FRR, iproute2, nftables, ...) and the Python package in ./.venv.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "install.sh: run as root (the built-in lab needs network namespaces and FRR)" >&2
  exit 1
fi

APT_PACKAGES=(frr frr-pythontools iproute2 nftables iputils-ping procps util-linux
              openssh-server openssh-client lldpd python3 python3-venv python3-dev gcc
              chromium chromium-driver  # the report in a browser, and printed to PDF
              poppler-utils)            # the PDF's pages checked (pdftotext, pdfinfo)
# Daemons these packages start in the root namespace on install; the lab runs its own inside
# namespaces, so one this script installs is stopped (one already there is left alone).
SERVICES=(frr:frr openssh-server:ssh lldpd:lldpd)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "== apt: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if command -v systemctl >/dev/null; then
  for pair in "${SERVICES[@]}"; do
    pkg=${pair%%:*} unit=${pair##*:}
    if [[ " ${missing[*]} " == *" $pkg "* ]]; then
      systemctl disable --now "$unit" >/dev/null 2>&1 || true
    fi
  done
fi

if [ ! -x .venv/bin/python ]; then
  echo "== python: creating .venv"
  python3 -m venv .venv
fi
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
  echo "== python: installing the harness and its dependencies"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[dev]'
  touch "$stamp"
fi
echo "== installed: $(.venv/bin/failover --help >/dev/null && echo failover) (FRR $(dpkg-query -W -f='${Version}' frr))"
