#!/usr/bin/env bash
# Creates the GitHub Release for the tag from notes.sh's $RUNNER_TEMP/body.md and meta.json, with
# the evidence files of $RUNNER_TEMP/assets (evidence.sh assets: SBOMs, provenance) attached, or
# replaces its body, flags and assets when it already exists (a re-run).
# Reads GITHUB_REF_NAME, RUNNER_TEMP, GH_TOKEN and GH_REPO (for gh).
set -euo pipefail
# shellcheck source=scripts/release/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

: "${RUNNER_TEMP:?}" "${GITHUB_REF_NAME:?}"
tag="${GITHUB_REF_NAME}"
body="${RUNNER_TEMP}/body.md"
prerelease="$(jq -r .prerelease "${RUNNER_TEMP}/meta.json")"
latest="$(jq -r .latest "${RUNNER_TEMP}/meta.json")"
# No evidence, no Release: the assets step must have produced the SBOMs and the provenance.
mapfile -t assets < <(find "${RUNNER_TEMP}/assets" -maxdepth 1 -type f -name '*.json' 2>/dev/null | sort)
if ! printf '%s\n' "${assets[@]}" | grep -q '\.provenance\.json$' ||
	! printf '%s\n' "${assets[@]}" | grep -q '\.spdx\.json$'; then
	fail "no evidence in ${RUNNER_TEMP}/assets (evidence.sh assets): no Release without SBOMs and provenance"
fi
if gh release view "${tag}" >/dev/null 2>&1; then
	gh release edit "${tag}" --notes-file "${body}" --prerelease="${prerelease}" --latest="${latest}"
	gh release upload "${tag}" --clobber "${assets[@]}"
else
	gh release create "${tag}" --verify-tag --title "${tag}" --notes-file "${body}" \
		--prerelease="${prerelease}" --latest="${latest}" "${assets[@]}"
fi
log "Release ${tag}: prerelease=${prerelease} latest=${latest}"
