#!/usr/bin/env bash
# Measures a full default mock exam on the sandbox (issue 16): `ckalab exam start` with its
# pre-flight (every cluster started, every task set up, its break proven and its checks shown
# failing) until the clock starts, and the resident memory of everything the exam runs (every
# cluster's processes, sampled each half second from the start to the end of pre-flight, and
# once the exam runs).
#
#   bash benches/exam.sh [seeds...]       (default: seeds 1 2 3; needs what the sandbox needs
#                                          and the binaries scripts/build-k8s.sh builds)
#
# Targets: under 90 s from `exam start` to the clock starting, under 6 GiB RSS, on a 2-core,
# 24 GiB machine with cached binaries.
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=("$@")
[ ${#seeds[@]} -gt 0 ] || seeds=(1 2 3)
cargo build --quiet --locked
ckalab=${CARGO_TARGET_DIR:-$PWD/target}/debug/ckalab
work=$(mktemp -d /tmp/cke.XXXX)
cleanup() {
    CKALAB_HOME=$work/home "$ckalab" exam submit >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

# The RSS, in MiB, of every process whose command line names this exam's home (the node
# agents, the control planes under them, the proctor) and of their process groups.
rss_mib() {
    local groups
    groups=$(pgrep -f -- "$work/home" | xargs -r ps -o pgid= -p | tr -d ' ' | sort -u | paste -sd' ' - || true)
    ps -eo pgid=,rss= | awk -v groups=" $groups " \
        'index(groups, " " $1 " ") {s += $2} END {printf "%d", s / 1024}'
}

printf '| seed | tasks | clusters | start (s) | peak RSS during start (MiB) | RSS running (MiB) |\n'
printf '| --- | --- | --- | --- | --- | --- |\n'
for seed in "${seeds[@]}"; do
    rm -rf "$work/home"
    peak_file=$work/peak
    echo 0 >"$peak_file"
    (
        while sleep 0.5; do
            now=$(rss_mib)
            [ "$now" -le "$(cat "$peak_file")" ] || echo "$now" >"$peak_file"
        done
    ) &
    sampler=$!
    begin=$(date +%s%N)
    CKALAB_HOME=$work/home "$ckalab" exam start --seed "$seed" >"$work/start.out"
    end=$(date +%s%N)
    kill "$sampler" 2>/dev/null || true
    wait "$sampler" 2>/dev/null || true
    status=$(CKALAB_HOME=$work/home "$ckalab" exam status --json)
    tasks=$(echo "$status" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["tasks"]))')
    clusters=$(echo "$status" | python3 -c 'import json,sys; print(len({t["cluster"] for t in json.load(sys.stdin)["tasks"]}))')
    running=$(rss_mib)
    peak=$(cat "$peak_file")
    [ "$running" -le "$peak" ] || peak=$running
    seconds=$(awk -v a="$begin" -v b="$end" 'BEGIN {printf "%.1f", (b - a) / 1e9}')
    printf '| %s | %s | %s | %s | %s | %s |\n' "$seed" "$tasks" "$clusters" "$seconds" "$peak" "$running"
    CKALAB_HOME=$work/home "$ckalab" exam submit >/dev/null || true
done
