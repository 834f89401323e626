#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages ckalab's sandbox and tests use: containerd, bubblewrap,
# openssl and tmux (etcd 3.6 and Kubernetes are built from Go modules: scripts/build-k8s.sh). Skips apt entirely when everything is already there.
set -euo pipefail

packages=()
command -v containerd >/dev/null || packages+=(containerd)
command -v bwrap >/dev/null || packages+=(bubblewrap)
command -v openssl >/dev/null || packages+=(openssl)
command -v tmux >/dev/null || packages+=(tmux)
[ ${#packages[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing ${packages[*]} with apt-get" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
