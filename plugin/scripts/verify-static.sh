#!/usr/bin/env bash
# Cross-builds cq-source-s3 for linux/amd64 and linux/arm64 with the exact
# command the Dockerfile runs, proves both binaries are static (no cgo, no
# dynamic loader) and serves each one - arm64 under qemu-aarch64-static - through
# the gRPC test in main_test.go (discovery, name, version, Init, tables, sync).
#
# Needs: go, file (Debian "file"), qemu-aarch64-static (Debian "qemu-user-static").
# Installs nothing. Usage: plugin/scripts/verify-static.sh [VERSION]
set -euo pipefail

plugin_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dockerfile="${plugin_dir}/../Dockerfile"
version="${1:-v0.0.0-verify}"

die() {
  echo "verify-static: $*" >&2
  exit 1
}

for tool in go file qemu-aarch64-static gzip; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    case "$tool" in
      file) die "'file' not found; install it: apt-get install -y file" ;;
      qemu-aarch64-static) die "'qemu-aarch64-static' not found; install it: apt-get install -y qemu-user-static" ;;
      *) die "'$tool' not found on PATH" ;;
    esac
  fi
done

# The build line below must stay identical to the Dockerfile's; fail on drift.
# shellcheck disable=SC2016 # ${VERSION} is Dockerfile text, not a shell expansion
build_flags='go build -o /out/cq-source-s3 -buildmode=exe -ldflags "-s  -w -X github.com/infobloxopen/cq-source-s3/plugin.Version=${VERSION} -X github.com/infobloxopen/cq-source-s3/resources/plugin.Version=${VERSION}" .'
if ! grep -qF -- "$build_flags" "$dockerfile" || ! grep -qxF 'ENV GOFLAGS="-trimpath -tags=grpcnotrace"' "$dockerfile"; then
  die "Dockerfile no longer contains the build command this script verifies: $build_flags"
fi

out="$(mktemp -d)"
trap 'rm -rf -- "$out"' EXIT

cd "$plugin_dir"
for arch in amd64 arm64; do
  bin="${out}/cq-source-s3-${arch}"
  echo "== build linux/${arch}"
  CGO_ENABLED=0 GOOS=linux GOARCH="$arch" GOTOOLCHAIN=local GOFLAGS="-trimpath -tags=grpcnotrace" \
    go build -o "$bin" -buildmode=exe -ldflags "-s  -w -X github.com/infobloxopen/cq-source-s3/plugin.Version=${version} -X github.com/infobloxopen/cq-source-s3/resources/plugin.Version=${version}" .

  info="$(go version -m "$bin")"
  for want in "build	CGO_ENABLED=0" "build	GOARCH=${arch}" "build	GOOS=linux" "build	-trimpath=true" "build	-tags=grpcnotrace"; do
    grep -qF -- "$want" <<<"$info" || die "linux/${arch}: 'go version -m' lacks '${want}'"
  done

  desc="$(file -b "$bin")"
  case "$arch" in
    amd64) want_machine="x86-64" ;;
    arm64) want_machine="ARM aarch64" ;;
  esac
  [[ "$desc" == *"$want_machine"* ]] || die "linux/${arch}: not a ${want_machine} binary: ${desc}"
  [[ "$desc" == *"statically linked"* ]] || die "linux/${arch}: not statically linked: ${desc}"

  size="$(stat -c %s "$bin")"
  gz="$(gzip -9 -c "$bin" | wc -c)"
  printf 'linux/%s: %s bytes (%s MiB), gzip -9 %s bytes (%s MiB)\n' "$arch" "$size" \
    "$(awk -v b="$size" 'BEGIN { printf "%.1f", b / 1048576 }')" "$gz" \
    "$(awk -v b="$gz" 'BEGIN { printf "%.1f", b / 1048576 }')"
  echo "  ${desc}"
done

# How to run a linux/<arch> binary on this host: natively or under qemu.
wrapper_for() {
  local host
  host="$(uname -m)"
  case "$1/$host" in
    amd64/x86_64 | arm64/aarch64) echo "" ;;
    arm64/*) echo "qemu-aarch64-static" ;;
    amd64/*)
      command -v qemu-x86_64-static >/dev/null 2>&1 || die "host is ${host}; qemu-x86_64-static is needed for amd64"
      echo "qemu-x86_64-static"
      ;;
  esac
}

for arch in amd64 arm64; do
  wrapper="$(wrapper_for "$arch")"
  echo "== serve linux/${arch}${wrapper:+ under ${wrapper}} and talk gRPC"
  CQ_SOURCE_S3_BINARY="${out}/cq-source-s3-${arch}" \
    CQ_SOURCE_S3_BINARY_VERSION="$version" \
    CQ_SOURCE_S3_EXEC_WRAPPER="$wrapper" \
    go test -count=1 -run '^TestServeBinary$' .
done
echo "verify-static: OK (linux/amd64, linux/arm64 static; both serve gRPC)"
