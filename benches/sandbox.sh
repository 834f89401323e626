#!/usr/bin/env bash
# Measures `ckalab start etcd-restore` and `ckalab check` on the sandbox and, in the same run,
# the raw work they wrap done with plain commands: start containerd and a TLS etcd, write the
# two objects, take the snapshot, delete the objects. Prints medians and the ratio.
#
#   bash benches/sandbox.sh [runs]      (default 5; needs containerd, openssl and the binaries
#                                        scripts/build-k8s.sh builds)
#
# The raw side starts etcd only, while `ckalab start` also starts the real kube-apiserver and
# waits for the Node to be Ready: the ratio shows what the control plane costs on top.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
# shellcheck source=../gobuild/pins.env
source gobuild/pins.env
bin=${CKALAB_BIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ckalab/bin}/etcd-$ETCD_VERSION
[ -f "$bin/.built" ] || { echo "etcd $ETCD_VERSION is not built: bash scripts/build-k8s.sh" >&2; exit 4; }
cargo build --quiet --locked
ckalab=$PWD/target/debug/ckalab
work=$(mktemp -d /tmp/ckb.XXXX)
trap 'CKALAB_HOME=$work/home "$ckalab" stop >/dev/null 2>&1 || true; pkill -f "$work" || true; rm -rf "$work"' EXIT

now() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {m=a[int((NR+1)/2)]; printf "%.3f", m/1e9}'; }

# One set of certificates for the raw etcd, made once (ckalab's start makes its own PKI too,
# so the comparison favours the raw side slightly).
pki=$work/pki; mkdir -p "$pki"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=etcd-ca \
    -keyout "$pki/ca.key" -out "$pki/ca.crt" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=etcd -keyout "$pki/server.key" \
    -out "$pki/server.csr" 2>/dev/null
openssl x509 -req -in "$pki/server.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial -days 1 \
    -extfile <(printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth') -out "$pki/server.crt" 2>/dev/null

raw_once() {
    local d=$work/raw; rm -rf "$d"; mkdir -p "$d"
    printf 'version = 2\nroot = "%s/c"\nstate = "%s/s"\n[grpc]\n  address = "%s/c.sock"\n[ttrpc]\n  address = "%s/c.sock.ttrpc"\n' "$d" "$d" "$d" "$d" > "$d/config.toml"
    containerd --config "$d/config.toml" >/dev/null 2>&1 & local cpid=$!
    "$bin/etcd" --name raw --data-dir "$d/etcd" --listen-client-urls https://127.0.0.1:23790 \
        --advertise-client-urls https://127.0.0.1:23790 --listen-peer-urls https://127.0.0.1:23800 \
        --initial-advertise-peer-urls https://127.0.0.1:23800 --initial-cluster raw=https://127.0.0.1:23800 \
        --cert-file "$pki/server.crt" --key-file "$pki/server.key" --trusted-ca-file "$pki/ca.crt" --client-cert-auth \
        --peer-cert-file "$pki/server.crt" --peer-key-file "$pki/server.key" --peer-trusted-ca-file "$pki/ca.crt" \
        >/dev/null 2>&1 & local epid=$!
    local e=("$bin/etcdctl" --endpoints https://127.0.0.1:23790 --cacert "$pki/ca.crt" --cert "$pki/server.crt" --key "$pki/server.key")
    until [ -S "$d/c.sock" ] && "${e[@]}" endpoint health >/dev/null 2>&1; do sleep 0.05; done
    "${e[@]}" put /registry/configmaps/payments/app-config '{"data":{"currency":"EUR"}}' >/dev/null
    "${e[@]}" put /registry/secrets/payments/db-credentials '{"data":{"password":"cw=="}}' >/dev/null
    "${e[@]}" snapshot save "$d/snapshot.db" >/dev/null 2>&1
    "${e[@]}" del /registry/configmaps/payments/app-config >/dev/null
    "${e[@]}" del /registry/secrets/payments/db-credentials >/dev/null
    kill "$cpid" "$epid"; wait "$cpid" "$epid" 2>/dev/null || true
}

raw=(); start=(); check=()
for i in $(seq "$runs"); do
    t=$(now); raw_once; raw+=($(( $(now) - t )))
    t=$(now); CKALAB_HOME=$work/home "$ckalab" start etcd-restore >/dev/null; start+=($(( $(now) - t )))
    for _ in 1 2 3; do
        t=$(now); CKALAB_HOME=$work/home "$ckalab" check >/dev/null || true; check+=($(( $(now) - t )))
    done
done
CKALAB_HOME=$work/home "$ckalab" stop >/dev/null

raw_m=$(printf '%s\n' "${raw[@]}" | median)
start_m=$(printf '%s\n' "${start[@]}" | median)
check_m=$(printf '%s\n' "${check[@]}" | median)
echo "raw work (containerd + TLS etcd + objects + snapshot), median of $runs: ${raw_m}s"
echo "ckalab start etcd-restore, median of $runs:                        ${start_m}s"
echo "ckalab check (etcd-restore, broken), median of $((runs * 3)):                    ${check_m}s"
awk -v s="$start_m" -v r="$raw_m" 'BEGIN { printf "start / raw work: %.2fx (target <= 1.5x)\n", s / r }'
