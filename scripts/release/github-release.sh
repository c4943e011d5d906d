#!/usr/bin/env bash
# Creates the GitHub Release for the tag from notes.sh's $RUNNER_TEMP/body.md and meta.json, or
# replaces its body and flags when it already exists (a re-run).
# Reads GITHUB_REF_NAME, RUNNER_TEMP, GH_TOKEN and GH_REPO (for gh).
set -euo pipefail
# shellcheck source=scripts/release/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

: "${RUNNER_TEMP:?}" "${GITHUB_REF_NAME:?}"
tag="${GITHUB_REF_NAME}"
body="${RUNNER_TEMP}/body.md"
prerelease="$(jq -r .prerelease "${RUNNER_TEMP}/meta.json")"
latest="$(jq -r .latest "${RUNNER_TEMP}/meta.json")"
if gh release view "${tag}" >/dev/null 2>&1; then
	gh release edit "${tag}" --notes-file "${body}" --prerelease="${prerelease}" --latest="${latest}"
else
	gh release create "${tag}" --verify-tag --title "${tag}" --notes-file "${body}" \
		--prerelease="${prerelease}" --latest="${latest}"
fi
log "Release ${tag}: prerelease=${prerelease} latest=${latest}"
