#!/usr/bin/env bash
# Lints the release automation: actionlint (workflow syntax, expressions, and shellcheck on every
# `run:` block), shellcheck on every tracked shell script, and zizmor (workflow security audit,
# offline), and gofmt on the Go files of scripts/ (plugin/ and test/e2e/sync have their own checks).
# Tools are pinned in toolchain/versions.env and installed idempotently into the toolchain cache
# from the package registries (Go module proxy, Debian, PyPI); nothing is downloaded from release
# pages.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# ACTIONLINT_VERSION, SHELLCHECK_VERSION, ZIZMOR_VERSION
# shellcheck source=toolchain/versions.env
source "$repo_root/toolchain/versions.env"
cache_dir="${CQ_TOOLCHAIN_DIR:-$HOME/.cache/cq-release-toolchain}/lint"
mkdir -p "$cache_dir/bin"

log() { printf 'lint: %s\n' "$*" >&2; }

install_actionlint() {
  local bin="$cache_dir/bin/actionlint" stamp="$cache_dir/actionlint.version"
  if [[ -x "$bin" && "$(cat "$stamp" 2>/dev/null)" == "$ACTIONLINT_VERSION" ]]; then
    return 0
  fi
  log "installing actionlint $ACTIONLINT_VERSION (go install)"
  GOBIN="$cache_dir/bin" GOFLAGS=-mod=mod go install \
    "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION"
  printf '%s\n' "$ACTIONLINT_VERSION" >"$stamp"
}

# Shellcheck comes from Debian; the .deb is unpacked into the cache (no root needed once apt's
# package lists exist, and the pinned version does not depend on what the host has installed).
install_shellcheck() {
  local dest="$cache_dir/shellcheck-$SHELLCHECK_VERSION"
  if [[ -x "$dest/usr/bin/shellcheck" ]]; then
    return 0
  fi
  log "installing shellcheck $SHELLCHECK_VERSION (Debian package)"
  local tmp
  tmp="$(mktemp -d)"
  if ! (cd "$tmp" && apt-get download "shellcheck=$SHELLCHECK_VERSION" >/dev/null 2>&1); then
    # Package lists missing or stale: refresh them (root here; passwordless sudo on CI runners).
    local sudo=()
    if [[ "$(id -u)" -ne 0 ]]; then
      if ! sudo -n true 2>/dev/null; then
        log "apt-get download failed and sudo is not available; run 'sudo apt-get update' and retry"
        rm -rf "$tmp"
        return 1
      fi
      sudo=(sudo -n)
    fi
    "${sudo[@]}" apt-get update -qq
    (cd "$tmp" && apt-get download "shellcheck=$SHELLCHECK_VERSION")
  fi
  rm -rf "$dest.partial"
  dpkg-deb -x "$tmp"/shellcheck_*.deb "$dest.partial"
  mv "$dest.partial" "$dest"
  rm -rf "$tmp"
}

install_zizmor() {
  local venv="$cache_dir/zizmor-venv"
  if [[ -x "$venv/bin/zizmor" ]] && [[ "$("$venv/bin/zizmor" --version)" == "zizmor $ZIZMOR_VERSION" ]]; then
    return 0
  fi
  log "installing zizmor $ZIZMOR_VERSION (PyPI, venv)"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "zizmor==$ZIZMOR_VERSION"
}

install_actionlint
install_shellcheck
install_zizmor

actionlint="$cache_dir/bin/actionlint"
shellcheck="$cache_dir/shellcheck-$SHELLCHECK_VERSION/usr/bin/shellcheck"
zizmor="$cache_dir/zizmor-venv/bin/zizmor"

cd "$repo_root"
status=0

log "actionlint $("$actionlint" -version | head -n1) on .github/workflows"
"$actionlint" -shellcheck="$shellcheck" -no-color .github/workflows/*.yml || status=1

# Every shell script of the tree, tracked or new (not ignored), so a script is checked before its
# first commit: *.sh, plus extension-less files with a sh/bash shebang (.ci/run, the policy engine
# test's analyzer launcher).
scripts=()
while IFS= read -r -d '' file; do
  if [[ "$file" == *.sh && -f "$file" ]]; then
    scripts+=("$file")
  elif [[ -f "$file" && "$file" != *.* ]] && head -n1 "$file" | grep -Eq '^#!.*[/ ](ba)?sh$'; then
    scripts+=("$file")
  fi
done < <(git ls-files -z --cached --others --exclude-standard)
log "shellcheck $SHELLCHECK_VERSION on ${#scripts[@]} script(s)"
if [[ "${#scripts[@]}" -gt 0 ]]; then
  "$shellcheck" --external-sources "${scripts[@]}" || status=1
fi

# Remote actions must be pinned to a full commit SHA with the release it corresponds to in a
# comment (`owner/repo@<40 hex> # vX.Y.Z`), so updates are reviewable; local ./ workflows excepted.
log "action pins on .github/workflows"
unpinned="$(grep -nE '^[[:space:]-]*uses:' .github/workflows/*.yml |
  grep -vE 'uses:[[:space:]]+\./' |
  grep -vE 'uses:[[:space:]]+[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40}[[:space:]]+#[[:space:]]+v[0-9]+\.[0-9]+\.[0-9]+$' || true)"
if [[ -n "$unpinned" ]]; then
  printf '%s\n' "$unpinned" >&2
  log "the uses: above are not pinned as owner/repo@<sha> # vX.Y.Z"
  status=1
fi

log "zizmor $ZIZMOR_VERSION --offline on .github/workflows"
"$zizmor" --offline --no-progress .github/workflows || status=1

log "gofmt on scripts/"
unformatted="$(gofmt -l scripts)"
if [[ -n "$unformatted" ]]; then
  printf '%s\n' "$unformatted" >&2
  log "the Go files above need gofmt"
  status=1
fi

if [[ "$status" -ne 0 ]]; then
  log "FAILED"
  exit "$status"
fi
log "all clean"
