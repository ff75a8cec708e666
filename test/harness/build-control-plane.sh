#!/usr/bin/env bash
# Builds etcd, kube-apiserver, kube-controller-manager and kubectl from their Go
# modules at one pinned Kubernetes version, and caches the binaries under
# ~/.cache/portico/k8s-<version>/bin. A warm cache returns at once.
#
# Why build: Debian ships etcd 3.4, which Kubernetes 1.37 no longer supports,
# and no kube-apiserver at all. The Go module proxy is reachable, so we build
# from k8s.io/kubernetes with the usual replace lines for its staging modules.
# etcd is built from the same module graph (go.etcd.io/etcd/server/v3 at the
# version Kubernetes itself pins), so the pair is the one upstream tests.
set -euo pipefail

K8S_VERSION="${PORTICO_K8S_VERSION:-v1.37.2}"
CACHE="${PORTICO_CACHE_DIR:-$HOME/.cache/portico}/k8s-${K8S_VERSION}"
BIN="$CACHE/bin"
TOOLS=(etcd kube-apiserver kube-controller-manager kubectl)

have_all() { for t in "${TOOLS[@]}"; do [ -x "$BIN/$t" ] || return 1; done; }
if have_all; then echo "$BIN"; exit 0; fi

command -v go >/dev/null || { echo "build-control-plane: 'go' is required on PATH" >&2; exit 1; }
SRC="$CACHE/src"
mkdir -p "$SRC" "$BIN"
cd "$SRC"

# The staging modules are versioned v0.X.Y for Kubernetes v1.X.Y.
STAGING_VERSION="v0.${K8S_VERSION#v1.}"
go mod download -json "k8s.io/kubernetes@${K8S_VERSION}" >/dev/null
UPSTREAM_MOD="$(go env GOMODCACHE)/cache/download/k8s.io/kubernetes/@v/${K8S_VERSION}.mod"

{
  echo "module portico.local/controlplane"
  echo
  grep -E '^go ' "$UPSTREAM_MOD"
  echo
  echo "require k8s.io/kubernetes ${K8S_VERSION}"
  echo
  echo "replace ("
  # Every "k8s.io/x => ./staging/src/k8s.io/x" line of upstream becomes a
  # replace onto the published staging module of the same release.
  grep -E '=> \./staging/src/' "$UPSTREAM_MOD" | awk -v v="$STAGING_VERSION" '{print "\t" $1 " => " $1 " " v}'
  echo ")"
} > go.mod
cat > tools.go <<'GO'
//go:build tools

package controlplane

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
GO
export GOFLAGS="-mod=mod -buildvcs=false"
go mod tidy -e >/dev/null 2>&1 || true
go get "k8s.io/kubernetes@${K8S_VERSION}" >/dev/null
ETCD_VERSION="$(go list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3)"
go get "go.etcd.io/etcd/server/v3@${ETCD_VERSION}" >/dev/null

MINOR="${K8S_VERSION#v1.}"; MINOR="${MINOR%%.*}"
LDFLAGS="-s -w -X k8s.io/component-base/version.gitVersion=${K8S_VERSION} -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=${MINOR} -X k8s.io/client-go/pkg/version.gitVersion=${K8S_VERSION}"
go build -trimpath -ldflags "$LDFLAGS" -o "$BIN/kube-apiserver.tmp" k8s.io/kubernetes/cmd/kube-apiserver
go build -trimpath -ldflags "$LDFLAGS" -o "$BIN/kube-controller-manager.tmp" k8s.io/kubernetes/cmd/kube-controller-manager
go build -trimpath -ldflags "$LDFLAGS" -o "$BIN/kubectl.tmp" k8s.io/kubernetes/cmd/kubectl
go build -trimpath -ldflags "-s -w" -o "$BIN/etcd.tmp" go.etcd.io/etcd/server/v3
# Rename only when all built, so a half-finished build is never mistaken for a cache hit.
for t in "${TOOLS[@]}"; do mv "$BIN/$t.tmp" "$BIN/$t"; done
echo "$BIN"
