#!/usr/bin/env bash
# Every door but the image, from the image's own build (docs/release.md, "Every door"): the
# Dockerfile's `dist` target with the build args of this release's image (the stack output
# `imageBuildArgs`), on the same BuildKit, exported to a folder:
#   $RUNNER_TEMP/dist/hub/      the Hub package (`cloudquery plugin publish` reads it): package.json,
#                               tables.json, docs/, spec_json_schema.json, plugin-s3-<v>-<os>-<arch>.zip
#   $RUNNER_TEMP/dist/github/   the GitHub Release assets: cq-source-s3_<os>_<arch>.zip, checksums.txt
# The stage runs the SDK's own `package` command, which links every target with the image's flags:
# the linux binaries in the zips are the image's, byte for byte (the e2e compares them).
#   dist.sh [DEST]          DEST defaults to $RUNNER_TEMP/dist (emptied first)
# Reads: $RUNNER_TEMP/outputs.json (up.sh), BUILDKIT_HOST (the rehearsal's buildkitd; in the
# release job the buildx builder's container, docker-container://buildx_buildkit_<builder>0).
set -euo pipefail
# shellcheck source=scripts/release/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

dest="${1:-${RUNNER_TEMP:?}/dist}"
outputs="$(stack_outputs)"
: "${BUILDKIT_HOST:?BUILDKIT_HOST is not set: the BuildKit that built the image}"
command -v buildctl >/dev/null || fail "buildctl not found: the release job installs it (toolchain/versions.env BUILDKIT_VERSION)"

args=()
while IFS= read -r kv; do
	[[ -n "${kv}" ]] && args+=(--opt "build-arg:${kv}")
done < <(jq -r '(.imageBuildArgs // {}) | to_entries[] | "\(.key)=\(.value)"' "${outputs}")
jq -e '.imageBuildArgs.VERSION // empty' "${outputs}" >/dev/null ||
	fail "${outputs} has no imageBuildArgs.VERSION: the stack did not build a release image"
version="$(jq -r '.imageBuildArgs.VERSION' "${outputs}")"
args+=(--opt "build-arg:RELEASE_MESSAGE=cq-source-s3 ${version}")

rm -rf "${dest}"
mkdir -p "${dest}"
t0=${SECONDS}
buildctl --addr "${BUILDKIT_HOST}" build --progress plain \
	--frontend dockerfile.v0 --local context="${RELEASE_ROOT}/plugin" --local dockerfile="${RELEASE_ROOT}" \
	--opt filename=Dockerfile --opt target=dist "${args[@]}" \
	--output "type=local,dest=${dest}" >"${dest}.log" 2>&1 ||
	{ tail -n 40 "${dest}.log" >&2; fail "the dist build failed (log: ${dest}.log)"; }
(cd "${dest}/github" && sha256sum --quiet -c checksums.txt) || fail "${dest}/github: checksums.txt does not match the zips"
log "dist ${version} in $((SECONDS - t0)) s: $(cd "${dest}" && find . -type f | sort | tr '\n' ' ')"
