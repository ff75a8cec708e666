#!/usr/bin/env bash
# Builds the helm CLI from its Go module at a pinned version and caches it under
# ~/.cache/portico/helm-<version>/helm. There is no download site here, only the
# Go module proxy, so this is how the chart tests get a real helm.
set -euo pipefail
HELM_VERSION="${PORTICO_HELM_VERSION:-v4.3.1}"
CACHE="${PORTICO_CACHE_DIR:-$HOME/.cache/portico}/helm-${HELM_VERSION}"
if [ -x "$CACHE/helm" ]; then echo "$CACHE/helm"; exit 0; fi
command -v go >/dev/null || { echo "build-helm: 'go' is required on PATH" >&2; exit 1; }
mkdir -p "$CACHE/src"
cd "$CACHE/src"
MAJOR="${HELM_VERSION%%.*}"
cat > go.mod <<MOD
module portico.local/helmbuild

go 1.26
MOD
cat > tools.go <<GO
//go:build tools

package helmbuild

import _ "helm.sh/helm/${MAJOR}/cmd/helm"
GO
export GOFLAGS="-mod=mod -buildvcs=false"
go get "helm.sh/helm/${MAJOR}@${HELM_VERSION}" >/dev/null
go build -trimpath -ldflags "-s -w -X helm.sh/helm/${MAJOR}/internal/version.version=${HELM_VERSION}" -o "$CACHE/helm.tmp" "helm.sh/helm/${MAJOR}/cmd/helm"
mv "$CACHE/helm.tmp" "$CACHE/helm"
echo "$CACHE/helm"
