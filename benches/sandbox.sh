#!/usr/bin/env bash
# Measures the sandbox against a plain shell script, in one run:
#
#   - `ckalab start cri-plugin-disabled` (kubeadm's init phases, containerd, the node agent,
#     the real etcd, kube-apiserver, kube-controller-manager and kube-scheduler, kwok's two
#     workers, the break and its verification) against a plain script that starts the same
#     four binaries, with the same flags and files, until each answers healthy and the
#     controller-manager has made the default ServiceAccount (a start waits for that too);
#   - `ckalab check` on the broken lab;
#   - `ckalab reset` against a fresh start;
#   - the resident memory of one node: every process in the node agent's process group.
#
#   bash benches/sandbox.sh [runs]      (default 5; needs containerd, curl and the binaries
#                                        scripts/build-k8s.sh builds)
#
# Targets (issue 12): start <= 1.3x the plain script, check median < 0.3 s, reset <= 0.5x a
# start, one node <= 1.2 GiB RSS. With kwokctl (KWOKCTL=path, or on PATH) it also times
# `kwokctl create cluster --runtime binary --wait` on the same binaries.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
# shellcheck source=../gobuild/pins.env
source gobuild/pins.env
cache=${CKALAB_BIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ckalab/bin}
k8s=$cache/kubernetes-$K8S_VERSION
etcd=$cache/etcd-$ETCD_VERSION
for family in "$k8s" "$etcd"; do
    [ -f "$family/.built" ] || { echo "$family is not built: bash scripts/build-k8s.sh" >&2; exit 4; }
done
command -v curl >/dev/null || { echo "curl is not installed (sudo apt-get install -y curl)" >&2; exit 4; }
cargo build --quiet --locked
ckalab=${CARGO_TARGET_DIR:-$PWD/target}/debug/ckalab
work=$(mktemp -d /tmp/ckb.XXXX)
home=$work/home
plain_pids=()
cleanup() {
    CKALAB_HOME=$home "$ckalab" stop >/dev/null 2>&1 || true
    [ ${#plain_pids[@]} -eq 0 ] || kill -9 "${plain_pids[@]}" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

now() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {m=a[int((NR+1)/2)]; printf "%.3f", m/1e9}'; }
lab() { CKALAB_HOME=$home "$ckalab" "$@" >/dev/null; }

# The plain script's files and flags are the node's own: kubeadm's PKI, kubeconfigs and
# manifests from one sandbox node, its ports included, with node paths moved under $plain.
lab start cri-plugin-disabled
node=$home/sandbox/controlplane
plain=$work/plain
mkdir -p "$plain"
cp -a "$node/etc/kubernetes" "$plain/"
lab stop
# The command of a static pod manifest, one word per line, paths moved into $plain.
command_of() {
    awk '/^  - command:/ {on=1; next} on && /^    - / {sub(/^    - /, ""); print; next} on {exit}' \
        "$plain/kubernetes/manifests/$1.yaml" |
        sed -e "s#/etc/kubernetes#$plain/kubernetes#g" -e "s#/var/lib/etcd#$plain/etcd#g"
}
flag() { command_of "$1" | sed -n "s/^--$2=//p"; }
apiserver_port=$(flag kube-apiserver secure-port)
cm_port=$(flag kube-controller-manager secure-port)
scheduler_port=$(flag kube-scheduler secure-port)

# Starts the four binaries and waits until each answers healthy (plain_healthy_ns), then until
# the controller-manager has made the default ServiceAccount (plain_ns): what a sandbox start
# waits for, since no pod can be created before it. The teardown after it is not counted (the
# API server's graceful shutdown takes seconds).
plain_once() {
    rm -rf "$plain/etcd" && mkdir -m 700 "$plain/etcd"
    local t
    t=$(now)
    plain_pids=()
    local pod binary
    for pod in etcd kube-apiserver kube-controller-manager kube-scheduler; do
        mapfile -t words < <(command_of "$pod")
        binary=${words[0]}
        case $binary in etcd) binary=$etcd/etcd ;; *) binary=$k8s/$binary ;; esac
        "$binary" "${words[@]:1}" >"$work/$pod.log" 2>&1 &
        plain_pids+=($!)
    done
    local port
    for port in "$apiserver_port/readyz" "$cm_port/healthz" "$scheduler_port/healthz"; do
        until [ "$(curl -sk "https://127.0.0.1:$port" 2>/dev/null)" = ok ]; do sleep 0.05; done
    done
    plain_healthy_ns=$(($(now) - t))
    until "$k8s/kubectl" --kubeconfig "$plain/kubernetes/super-admin.conf" \
        get serviceaccount default >/dev/null 2>&1; do sleep 0.05; done
    plain_ns=$(($(now) - t))
    kill -9 "${plain_pids[@]}"
    wait "${plain_pids[@]}" 2>/dev/null || true
    plain_pids=()
}

# Every process of the node: the process group the agent is in (bubblewrap leads it).
node_rss_kib() {
    local group
    group=$(ps -o pgid= -p "$(cat "$node/var/lib/ckalab/agent.pid")" | tr -d ' ')
    ps -eo pgid=,rss= | awk -v g="$group" '$1 == g {s += $2} END {print s}'
}

kwokctl=${KWOKCTL:-$(command -v kwokctl || true)}
kwokctl_once() {
    local t
    t=$(now)
    KWOK_WORKDIR=$work/kwok "$kwokctl" create cluster --name bench --runtime binary --wait 2m \
        --kube-apiserver-binary "$k8s/kube-apiserver" \
        --kube-controller-manager-binary "$k8s/kube-controller-manager" \
        --kube-scheduler-binary "$k8s/kube-scheduler" --etcd-binary "$etcd/etcd" \
        --kwok-controller-binary "$cache/kwok-$KWOK_VERSION/kwok" >/dev/null 2>&1
    kwokctl_ns=$(($(now) - t))
    KWOK_WORKDIR=$work/kwok "$kwokctl" delete cluster --name bench >/dev/null 2>&1
}

plain_healthy_t=() plain_t=() start=() check=() reset=() rss=() kwok_t=()
for _ in $(seq "$runs"); do
    plain_once; plain_healthy_t+=("$plain_healthy_ns") plain_t+=("$plain_ns")
    if [ -n "$kwokctl" ]; then kwokctl_once; kwok_t+=("$kwokctl_ns"); fi
    t=$(now); lab start cri-plugin-disabled; start+=($(( $(now) - t )))
    sleep 5 # the workers and controllers settle, as a learner reads the task
    rss+=("$(node_rss_kib)")
    for _ in 1 2 3; do
        t=$(now); CKALAB_HOME=$home "$ckalab" check >/dev/null || true; check+=($(( $(now) - t )))
    done
    t=$(now); lab reset; reset+=($(( $(now) - t )))
    lab stop
done

plain_healthy_m=$(printf '%s\n' "${plain_healthy_t[@]}" | median)
plain_m=$(printf '%s\n' "${plain_t[@]}" | median)
start_m=$(printf '%s\n' "${start[@]}" | median)
check_m=$(printf '%s\n' "${check[@]}" | median)
reset_m=$(printf '%s\n' "${reset[@]}" | median)
rss_max=$(printf '%s\n' "${rss[@]}" | sort -n | tail -1)
echo "plain script (etcd, kube-apiserver, controller-manager, scheduler to healthy), median of $runs: ${plain_healthy_m}s"
echo "plain script, until the default ServiceAccount exists, median of $runs: ${plain_m}s"
echo "ckalab start cri-plugin-disabled, median of $runs: ${start_m}s"
echo "ckalab check (broken), median of $((runs * 3)): ${check_m}s (target < 0.3 s)"
echo "ckalab reset, median of $runs: ${reset_m}s"
awk -v s="$start_m" -v p="$plain_m" 'BEGIN { printf "start / plain script: %.2fx (target <= 1.3x)\n", s / p }'
awk -v r="$reset_m" -v s="$start_m" 'BEGIN { printf "reset / start: %.2fx (target <= 0.5x)\n", r / s }'
awk -v k="$rss_max" 'BEGIN { printf "one node, largest RSS of %d: %.0f MiB (target <= 1229 MiB)\n", '"$runs"', k / 1024 }'
if [ -n "$kwokctl" ]; then
    kwok_m=$(printf '%s\n' "${kwok_t[@]}" | median)
    echo "kwokctl create cluster --runtime binary --wait, median of $runs: ${kwok_m}s"
    awk -v s="$start_m" -v k="$kwok_m" 'BEGIN { printf "start / kwokctl: %.2fx\n", s / k }'
fi
