#!/usr/bin/env bash
# Creates the GitHub Release for the tag from notes.sh's $RUNNER_TEMP/body.md and meta.json, with
# the evidence files of $RUNNER_TEMP/assets (evidence.sh assets: SBOMs, provenance) and the
# `registry: github` door, $RUNNER_TEMP/dist/github (dist.sh: cq-source-s3_<os>_<arch>.zip and
# checksums.txt; dist-evidence.sh: their signature, provenance and SBOMs) attached, or replaces
# its body, flags and assets when it already exists (a re-run).
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
# No zips without their evidence (dist-evidence.sh): the signed checksums.txt, the provenance
# about every file, an SBOM per binary.
mapfile -t blob_evidence < <(find "${doors}" -maxdepth 1 -type f \( -name '*.sigstore.json' -o -name '*.spdx.json' \) | sort)
for required in checksums.txt.sigstore.json cq-source-s3_provenance.sigstore.json; do
	[[ -s "${doors}/${required}" ]] || fail "no ${doors}/${required} (dist-evidence.sh): no Release without the zips' evidence"
done
[[ "$(find "${doors}" -maxdepth 1 -name 'cq-source-s3_*.spdx.json' | wc -l)" == "${#zips[@]}" ]] ||
	fail "${doors}: not one SBOM per zip (dist-evidence.sh): no Release without the zips' evidence"
assets+=("${zips[@]}" "${doors}/checksums.txt" "${blob_evidence[@]}")
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
