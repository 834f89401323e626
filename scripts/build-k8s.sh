#!/usr/bin/env bash
# Builds the real Kubernetes v1.35 control plane (kube-apiserver, kube-controller-manager,
# kube-scheduler, kubeadm, kubectl), etcd 3.6 (etcd, etcdutl, etcdctl), crictl and kwok from
# the Go modules under gobuild/, into a per-version cache outside the repository:
#
#   ${CKALAB_BIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ckalab/bin}/<family>-<version>/
#
# A family is built once per pin: its folder holds a `.built` stamp naming the hash of its
# go.mod, go.sum and build flags, and a family whose stamp matches is skipped. A build goes to a
# temporary folder that is renamed into place only when every binary of the family is there,
# so a half-built binary is never used. Go builds run under `nice`, so the machine stays usable.
#
# usage: scripts/build-k8s.sh [kubernetes|etcd|crictl|kwok]...   (default: all four)
set -euo pipefail
cd "$(dirname "$0")/.."
GOBUILD=$PWD/gobuild
# shellcheck source=../gobuild/pins.env
source "$GOBUILD/pins.env"

CACHE=${CKALAB_BIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ckalab/bin}
JOBS=${GO_BUILD_JOBS:-2}

say() { printf '[build-k8s %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

if ! command -v go >/dev/null; then
    say "go is not installed: the real Kubernetes binaries are built from Go modules"
    say "hint: install Go 1.25 or newer (Debian: sudo apt-get install -y golang-go), then run this again"
    exit 4
fi

# stamp FAMILY FLAGS: what a build of FAMILY depends on, hashed.
stamp() {
    cat "$GOBUILD/$1/go.mod" "$GOBUILD/$1/go.sum" <(printf '%s\n' "$2" "$(go env GOVERSION)") |
        sha256sum | cut -c1-16
}

# build FAMILY VERSION BINARY=PACKAGE...: one `go build "${FLAGS[@]}"` per binary into a
# temporary folder, then the whole folder renamed into place.
FLAGS=()
tmp=
trap '[ -z "$tmp" ] || rm -rf "$tmp"' EXIT
build() {
    local family=$1 version=$2
    shift 2
    local dest="$CACHE/$family-$version" want
    want=$(stamp "$family" "${FLAGS[*]} $(declare -f "extra_$family" || true)")
    if [ "$(cat "$dest/.built" 2>/dev/null)" = "$want" ]; then
        say "$family $version: up to date in $dest"
        return
    fi
    mkdir -p "$CACHE"
    tmp=$(mktemp -d "$CACHE/.tmp-$family-XXXXXX")
    local started=$SECONDS pair
    for pair in "$@"; do
        local name=${pair%%=*} package=${pair#*=}
        say "$family $version: building $name ($package)"
        if ! (cd "$GOBUILD/$family" && CGO_ENABLED=0 nice -n 10 go build -p "$JOBS" -trimpath \
            "${FLAGS[@]}" -o "$tmp/$name" "$package"); then
            say "building $name failed in the Go module gobuild/$family (pins: gobuild/pins.env)"
            say "hint: the output above names the package; check that the Go module proxy answers (go env GOPROXY) and run this script again; no half-built binary was kept"
            exit 1
        fi
    done
    if declare -F "extra_$family" >/dev/null && ! "extra_$family" "$tmp"; then
        say "$family $version: could not copy its data files from the Go module gobuild/$family"
        say "hint: run this script again; no half-built folder was kept"
        exit 1
    fi
    echo "$want" >"$tmp/.built"
    rm -rf "$dest.old"
    [ -e "$dest" ] && mv "$dest" "$dest.old"
    mv "$tmp" "$dest"
    tmp=
    rm -rf "$dest.old"
    say "$family $version: built in $((SECONDS - started)) s into $dest"
}

kubernetes() {
    local ldflags="-s -w" p
    # As upstream's hack/lib/version.sh stamps them, or every binary says v0.0.0-master.
    for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
        ldflags+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1"
        ldflags+=" -X $p.gitMinor=$(echo "$K8S_VERSION" | cut -d. -f2)"
        ldflags+=" -X $p.gitTreeState=clean -X $p.buildDate=$K8S_BUILD_DATE"
    done
    local cmd=k8s.io/kubernetes/cmd
    FLAGS=(-tags=selinux,notest,grpcnotrace "-ldflags=$ldflags")
    build kubernetes "$K8S_VERSION" \
        "kube-apiserver=$cmd/kube-apiserver" \
        "kube-controller-manager=$cmd/kube-controller-manager" \
        "kube-scheduler=$cmd/kube-scheduler" \
        "kubeadm=$cmd/kubeadm" \
        "kubectl=$cmd/kubectl"
}

etcd() {
    # etcd's version is compiled in; only its git SHA is a flag, and the proxy has none.
    FLAGS=("-ldflags=-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=unknown")
    build etcd "$ETCD_VERSION" \
        "etcd=go.etcd.io/etcd/server/v3" \
        "etcdutl=go.etcd.io/etcd/etcdutl/v3" \
        "etcdctl=go.etcd.io/etcd/etcdctl/v3"
}

crictl() {
    FLAGS=("-ldflags=-s -w -X sigs.k8s.io/cri-tools/pkg/version.Version=${CRICTL_VERSION#v}")
    build crictl "$CRICTL_VERSION" "crictl=sigs.k8s.io/cri-tools/cmd/crictl"
}

# kwok's own default stages (how simulated nodes and pods move through their lives), as
# kwokctl configures them, from the module's source: they ship with the binary they fit.
extra_kwok() {
    local src f
    src=$(cd "$GOBUILD/kwok" && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok) || return 1
    for f in node/fast/node-initialize node/heartbeat-with-lease/node-heartbeat-with-lease \
        pod/fast/pod-ready pod/fast/pod-complete pod/fast/pod-delete; do
        printf -- '---\n' && cat "$src/kustomize/stage/$f.yaml" || return 1
    done >"$1/kwok-stages.yaml"
}

kwok() {
    FLAGS=("-ldflags=-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=$KWOK_VERSION")
    build kwok "$KWOK_VERSION" "kwok=sigs.k8s.io/kwok/cmd/kwok"
}

# The Gateway API's standard CRDs (GatewayClass, Gateway, HTTPRoute, ...) from its module at
# the pinned release, for the networking labs to install: no network at lab time.
extra_helm() {
    local src f
    src=$(cd "$GOBUILD/helm" && go mod download -json "sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION" |
        sed -n 's/^\t"Dir": "\(.*\)",$/\1/p') || return 1
    [ -d "$src/config/crd/standard" ] || return 1
    for f in "$src"/config/crd/standard/*.yaml; do
        printf -- '---\n' && cat "$f" || return 1
    done >"$1/gateway-api-standard.yaml"
}

helm() {
    FLAGS=("-ldflags=-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION")
    build helm "$HELM_VERSION" "helm=helm.sh/helm/v3/cmd/helm"
}

families=("$@")
[ ${#families[@]} -gt 0 ] || families=(kubernetes etcd crictl kwok helm)
for family in "${families[@]}"; do
    case $family in
    kubernetes | etcd | crictl | kwok | helm) "$family" ;;
    *)
        say "no family named $family (kubernetes, etcd, crictl, kwok, helm)"
        exit 2
        ;;
    esac
done
