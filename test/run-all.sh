#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what it needs, builds or
# reuses the control plane, runs the static checks, then unit and integration
# tests. Ends with the plain line "N passed, N failed[, N skipped]".
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RESULTS="$ROOT/.test-results"
rm -rf "$RESULTS" && mkdir -p "$RESULTS"

log() { printf '\n==> %s\n' "$*"; }

# --- 1. System packages (Debian). Only what is missing is installed. -------------------
log "apt packages"
bash test/harness/install-apt.sh || exit 1
command -v go >/dev/null || { echo "Go is required to build the control plane (see README)" >&2; exit 1; }

# --- 2. npm dependencies, including the pinned Node 24 --------------------------------
if ! cmp -s package-lock.json node_modules/.package-lock.json 2>/dev/null || [ -n "${CI:-}" ]; then
  log "npm ci"
  npm ci --no-audit --no-fund || exit 1
fi
export PATH="$ROOT/node_modules/.bin:$PATH"
log "node $(node --version)"

# --- 3. Control plane binaries (cached under ~/.cache/portico) ------------------------
if [ -z "${PORTICO_K8S_BIN_DIR:-}" ] && [ -z "${PORTICO_TEST_KUBECONFIG:-}" ]; then
  log "control plane binaries"
  start=$(date +%s)
  bash test/harness/build-control-plane.sh || exit 1
  echo "control plane ready after $(( $(date +%s) - start )) s"
fi
if [ -z "${PORTICO_HELM:-}" ]; then
  log "helm (built from its Go module, cached)"
  bash test/harness/build-helm.sh || exit 1
fi

# --- 4. Static checks: each counts as one test in the closing line -------------------
passed=0; failed=0; skipped=0
check() {
  local name=$1; shift
  log "$name"
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: $name"; fi
}
check "generated CRDs are current" npm run -s check:crds
check "typecheck" npm run -s typecheck
check "lint" npm run -s lint

# --- 5. Jest: unit, then integration (in band: they share one apiserver) -------------
export NODE_OPTIONS=--experimental-vm-modules
run_jest() {
  local project=$1; shift
  log "jest $project"
  jest --selectProjects "$project" --json --outputFile="$RESULTS/$project.json" "$@"
  local rc=$?
  if [ ! -s "$RESULTS/$project.json" ]; then
    echo "FAILED: jest $project produced no results (exit $rc)"
    failed=$((failed + 1))
    return
  fi
  read -r p f s < <(node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    // A suite that fails to load has no test results; count it as one failure.
    const broken = r.testResults.filter((t) => t.status === "failed" && t.assertionResults.length === 0).length;
    console.log(r.numPassedTests, r.numFailedTests + broken, r.numPendingTests + r.numTodoTests);
  ' "$RESULTS/$project.json")
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
}
run_jest unit
# --forceExit: client keep-alive sockets to the apiserver outlive the last test.
run_jest integration --runInBand --forceExit
# End-to-end: real packets in network namespaces (needs root), real BGP daemons.
run_jest e2e --runInBand --forceExit

echo
if [ "$skipped" -gt 0 ]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
