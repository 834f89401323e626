#!/usr/bin/env bash
# The tour on a fresh Debian/Ubuntu machine with Rust: installs etcd, containerd and openssl,
# builds ckalab, checks the machine, lists the labs and shows one with its lesson.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
cargo build --quiet --locked
ckalab=target/debug/ckalab
"$ckalab" doctor || true
echo
"$ckalab" labs
echo
"$ckalab" show etcd-restore
