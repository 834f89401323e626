#!/usr/bin/env bash
# Records the API responses the kube-check tests replay (tests/fixtures/kube/) from a real
# Kubernetes v1.35 API server: by default the sandbox's (a fresh node in a throw-away
# CKALAB_HOME, with the binaries scripts/build-k8s.sh builds), or ckalab's kind cluster.
#
#   bash scripts/record-kube-fixtures.sh                  # the sandbox
#   bash scripts/record-kube-fixtures.sh --kind [cluster] # kind (default cluster: ckalab),
#                                                          # made first with `ckalab cluster up`
#
# Needs curl (and for kind: docker or podman with KIND_EXPERIMENTAL_PROVIDER=podman). It
# breaks the node on purpose, one thing at a time (etcd's manifest moved away for the
# /readyz failure, the kubelet stopped for NotReady), and mends it before it exits, even when
# interrupted. The bodies are kept byte for byte as the API server sent them. Review the diff
# of tests/fixtures/kube/ before committing it.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
out=$repo/tests/fixtures/kube
namespace=payments
say() { echo "record: $*" >&2; }

sandbox_home=
if [ "${1:-}" = --kind ]; then
    cluster=${2:-ckalab}
    home=${CKALAB_HOME:-${XDG_DATA_HOME:-$HOME/.local/share}/ckalab}
    kubeconfig=$home/kind/$cluster.kubeconfig
    engine=${KIND_EXPERIMENTAL_PROVIDER:-docker}
    node=$cluster-control-plane
    for tool in "$engine" kubectl curl; do
        command -v "$tool" >/dev/null || { say "$tool is not installed"; exit 4; }
    done
    [ -f "$kubeconfig" ] || { say "no $kubeconfig: run \`ckalab cluster up\` first"; exit 4; }
    k() { kubectl --kubeconfig "$kubeconfig" --context "kind-$cluster" "$@"; }
    on_node() { "$engine" exec "$node" "$@"; }
else
    command -v curl >/dev/null || { say "curl is not installed"; exit 4; }
    (cd "$repo" && cargo build --quiet --locked)
    ckalab=${CARGO_TARGET_DIR:-$repo/target}/debug/ckalab
    sandbox_home=$(mktemp -d /tmp/ckalab-record.XXXX)
    node=controlplane
    # A healthy node whose lab only removes objects in `payments`, which this script remakes.
    CKALAB_HOME=$sandbox_home "$ckalab" start etcd-restore >/dev/null
    k() { CKALAB_HOME=$sandbox_home "$ckalab" shell -c "$(printf '%q ' kubectl "$@")"; }
    on_node() { CKALAB_HOME=$sandbox_home "$ckalab" shell -c "$(printf '%q ' "$@")"; }
fi

# kubectl proxy serves the API on loopback with the kubeconfig's credentials, so curl sees the
# raw bodies and status codes (`kubectl get --raw` hides a 404's body).
proxy_log=$(mktemp)
k proxy --port=0 >"$proxy_log" 2>&1 &
proxy_pid=$!
etcd_moved=false
kubelet_stopped=false
mend() {
    if $etcd_moved; then on_node mv /root/etcd.yaml.recording /etc/kubernetes/manifests/etcd.yaml || true; fi
    if $kubelet_stopped; then on_node systemctl start kubelet || true; fi
    k delete namespace "$namespace" --ignore-not-found --wait=false >/dev/null 2>&1 || true
    kill "$proxy_pid" 2>/dev/null || true
    rm -f "$proxy_log"
    if [ -n "$sandbox_home" ]; then
        CKALAB_HOME=$sandbox_home "$ckalab" stop >/dev/null 2>&1 || true
        rm -rf "$sandbox_home"
    fi
}
trap mend EXIT

api=
for _ in $(seq 50); do
    api=$(sed -n 's/^Starting to serve on \(.*\)$/http:\/\/\1/p' "$proxy_log")
    [ -n "$api" ] && break
    sleep 0.2
done
[ -n "$api" ] || { say "kubectl proxy did not start: $(cat "$proxy_log")"; exit 1; }

# GET a path; saves the body to $2 and prints the HTTP status.
get() { curl -sS -o "$2" -w '%{http_code}' "$api$1"; }

# Polls until GET $1 answers with status $2 (up to $3 seconds); the body lands in $4.
wait_for() {
    local deadline=$((SECONDS + $3))
    until [ "$(get "$1" "$4")" = "$2" ]; do
        [ $SECONDS -lt $deadline ] || { say "$1 never answered $2"; exit 1; }
        sleep 2
    done
}

# Polls until the node's Ready condition is $1 (True, or not True for "!True").
wait_ready() {
    local deadline=$((SECONDS + $2)) status
    while :; do
        status=$(k get node "$node" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')
        if [ "$1" = "True" ] && [ "$status" = "True" ]; then return; fi
        if [ "$1" = "!True" ] && [ "$status" != "True" ]; then return; fi
        [ $SECONDS -lt $deadline ] || { say "node $node stayed $status"; exit 1; }
        sleep 2
    done
}

say "node Ready"
wait_ready True 120
wait_for "/api/v1/nodes/$node" 200 10 "$out/node-ready.json"

say "core API discovery"
wait_for "/api/v1" 200 10 "$out/api-v1.json"

say "ConfigMap found and 404"
k get namespace "$namespace" >/dev/null 2>&1 || k create namespace "$namespace" >/dev/null
k -n "$namespace" create configmap app-config \
    --from-literal=currency=EUR --from-literal=max_retries=5 >/dev/null
wait_for "/api/v1/namespaces/$namespace/configmaps/app-config" 200 10 "$out/configmap-app-config.json"
k -n "$namespace" delete configmap app-config >/dev/null
wait_for "/api/v1/namespaces/$namespace/configmaps/app-config" 404 10 "$out/configmap-not-found.json"

say "pod Running and Pending"
# The controller-manager gives a new namespace its `default` ServiceAccount within seconds.
for _ in $(seq 30); do
    k -n "$namespace" get serviceaccount default >/dev/null 2>&1 && break
    sleep 1
done
wait_for "/api/v1/namespaces/kube-system/pods/etcd-$node" 200 10 "$out/pod-running.json"
k -n "$namespace" run web --image=registry.k8s.io/pause:3.10.1 \
    --overrides='{"apiVersion": "v1", "spec": {"nodeSelector": {"ckalab.dev/nowhere": "true"}}}' >/dev/null
for _ in $(seq 30); do
    # Recorded once the scheduler has said why it cannot place the pod.
    [ "$(k -n "$namespace" get pod web -o jsonpath='{.status.conditions[?(@.type=="PodScheduled")].reason}')" = Unschedulable ] && break
    sleep 1
done
wait_for "/api/v1/namespaces/$namespace/pods/web" 200 10 "$out/pod-pending.json"

say "/readyz 500 while etcd is gone (the kubelet stops it once its manifest leaves)"
wait_for /readyz 200 60 /dev/null
on_node mv /etc/kubernetes/manifests/etcd.yaml /root/etcd.yaml.recording
etcd_moved=true
wait_for /readyz 500 120 "$out/readyz-500.txt"
on_node mv /root/etcd.yaml.recording /etc/kubernetes/manifests/etcd.yaml
etcd_moved=false
wait_for /readyz 200 180 /dev/null

if [ -z "$sandbox_home" ]; then
    # kind only: the controller-manager's NodeStatusUnknown, once a stopped kubelet's grace
    # period ends. The sandbox's node agent posts NotReady itself at once, in the kubelet's
    # words, so it cannot give this response.
    say "node NotReady once the kubelet stops posting status (about 40 s)"
    on_node systemctl stop kubelet
    kubelet_stopped=true
    wait_ready '!True' 120
    wait_for "/api/v1/nodes/$node" 200 10 "$out/node-notready.json"
    on_node systemctl start kubelet
    kubelet_stopped=false
    wait_ready True 120
fi

say "recorded from $(curl -sS "$api/version" | sed -n 's/.*"gitVersion": *"\([^"]*\)".*/\1/p'): review \`git diff tests/fixtures/kube\`, run the tests, and say so in tests/fixtures/kube/README.md"
