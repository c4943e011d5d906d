#!/usr/bin/env bash
# Creates the GitHub Release for the tag from notes.sh's $RUNNER_TEMP/body.md and meta.json, with
# the evidence files of $RUNNER_TEMP/assets (evidence.sh assets: SBOMs, provenance) and the
# `registry: github` door, $RUNNER_TEMP/dist/github (dist.sh: cq-source-s3_<os>_<arch>.zip and
# checksums.txt) attached, or replaces its body, flags and assets when it already exists (a re-run).
# The zips are immutable like the exact image tags: a re-run whose checksums.txt equals the
# Release's re-uploads the same bytes; one that differs is refused before anything is changed.
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
# No zips, no Release: the `registry: github` door is part of every release.
doors="${RUNNER_TEMP}/dist/github"
[[ -s "${doors}/checksums.txt" ]] || fail "no ${doors}/checksums.txt (dist.sh): no Release without its zips"
(cd "${doors}" && sha256sum --quiet --strict -c checksums.txt) || fail "${doors}: the zips do not match checksums.txt"
mapfile -t zips < <(find "${doors}" -maxdepth 1 -type f -name 'cq-source-s3_*.zip' | sort)
[[ "${#zips[@]}" == "$(wc -l <"${doors}/checksums.txt")" ]] || fail "${doors}: checksums.txt does not list exactly the zips"
assets+=("${zips[@]}" "${doors}/checksums.txt")
if gh release view "${tag}" >/dev/null 2>&1; then
	published="$(mktemp)"
	if gh release download "${tag}" --pattern checksums.txt --output "${published}" --clobber 2>/dev/null; then
		cmp -s "${published}" "${doors}/checksums.txt" ||
			fail "the Release ${tag} already has zips of another build (its checksums.txt differs from this run's); release assets are immutable: publish a new version"
		log "Release ${tag}: its zips equal this run's (checksums.txt)"
	fi
	rm -f "${published}"
	gh release edit "${tag}" --notes-file "${body}" --prerelease="${prerelease}" --latest="${latest}"
	gh release upload "${tag}" --clobber "${assets[@]}"
else
	gh release create "${tag}" --verify-tag --title "${tag}" --notes-file "${body}" \
		--prerelease="${prerelease}" --latest="${latest}" "${assets[@]}"
fi
log "Release ${tag}: prerelease=${prerelease} latest=${latest}"
