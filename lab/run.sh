#!/usr/bin/env bash
# README's "run Portico" command: installs what the lab needs (apt packages,
# npm ci with the pinned Node 24), then runs it. The control plane is built
# from Go modules on first use and cached under ~/.cache/portico.
#   bash lab/run.sh [--check | down]
set -uo pipefail
cd "$(dirname "$0")/.."
bash test/harness/install-apt.sh || exit 1
command -v go >/dev/null || { echo "Go is required to build the control plane (see README)" >&2; exit 1; }
if ! cmp -s package-lock.json node_modules/.package-lock.json 2>/dev/null; then
  npm ci --no-audit --no-fund || exit 1
fi
if [ "${1:-}" = down ]; then exec npm run -s lab -- down; fi
exec npm run -s lab -- up "$@"
