#!/usr/bin/env bash
# Installs the Debian packages the tests need that npm does not bring. CI runs it as
# root on a fresh Debian machine (.ci/run); on a workstation, run it with sudo.
# It touches apt only when something is missing, so a second run costs nothing.
# With --check it installs nothing: it prints the missing packages on one line and exits 1,
# or exits 0 quietly when all are present (scripts/prepare.mjs asks it so).
set -euo pipefail

# One package per line, with what needs it.
packages=(
  buildah         # the engine of the pipeline runner's Docker@2 (runner/builtin/docker), as no Docker engine exists here
  docker-registry # a real OCI registry behind the emulated ACR front (test/emulators/registry.ts)
  skopeo          # checks what a promotion stored, independently of the task (test/oci/fixture.ts); Docker@2 reads pushed manifests
)

installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'
}

# One dpkg-query for them all: each call reads the whole package database, and
# scripts/prepare.mjs asks before every `npm test`.
statuses=$'\n'"$(dpkg-query -W -f='${Package} ${Status}\n' "${packages[@]}" 2>/dev/null || true)"$'\n'
missing=()
for package in "${packages[@]}"; do
  [[ $statuses == *$'\n'"$package install ok installed"$'\n'* ]] || missing+=("$package")
done

if [[ "${1:-}" == --check ]]; then
  ((${#missing[@]} == 0)) || { echo "${missing[*]}"; exit 1; }
  exit 0
fi

if ((${#missing[@]} == 0)); then
  echo "install-system-deps: all present: ${packages[*]:-none needed}"
  exit 0
fi

fail() {
  echo "install-system-deps: $1" >&2
  exit 1
}

((EUID == 0)) || fail "installing ${missing[*]} needs root: run 'sudo $0'."
command -v apt-get >/dev/null || fail "no apt-get here: install ${missing[*]} with this system's package manager."

echo "install-system-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq || fail "'apt-get update' failed: check the network and /etc/apt/sources.list, then rerun."
apt-get install -y -qq --no-install-recommends "${missing[@]}" ||
  fail "'apt-get install ${missing[*]}' failed (see above): fix the cause, then rerun."

for package in "${missing[@]}"; do
  installed "$package" || fail "$package still is not installed after apt-get install."
done
echo "install-system-deps: installed ${missing[*]}"
