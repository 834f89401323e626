#!/usr/bin/env bash
# The tour on a fresh Debian/Ubuntu machine with Rust: installs containerd, bubblewrap and openssl,
# builds the real Kubernetes binaries and ckalab, then runs one lab on the sandbox from start to
# a passing grade.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
bash scripts/build-k8s.sh
cargo build --quiet --locked
ckalab=target/debug/ckalab
"$ckalab" doctor || true
echo
"$ckalab" labs
echo
trap '"$ckalab" stop >/dev/null 2>&1 || true' EXIT
"$ckalab" start cri-plugin-disabled
echo
echo '$ ckalab check        # the node is still broken'
"$ckalab" check || true
echo
echo '$ ckalab solution --apply'
"$ckalab" solution --apply
echo
echo '$ ckalab check'
"$ckalab" check
