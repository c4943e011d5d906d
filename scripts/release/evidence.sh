#!/usr/bin/env bash
# The release's evidence, attested by digest to every registry's image (docs/release.md, "Evidence"):
#   evidence.sh sbom        per platform, an SPDX JSON and a CycloneDX JSON SBOM of the pushed
#                           manifest (syft, from the registry), attested to the index with
#                           `cosign attest --type spdxjson` / `--type cyclonedx`
#   evidence.sh provenance  the SLSA v1 provenance (steps.ts provenance: workflow, repository and
#                           its numeric id, commit, build args, digest-pinned base images,
#                           toolchain versions, each platform's manifest digest), attested with
#                           `cosign attest --type slsaprovenance1`
# Attestations are separate artifacts that refer to the digest (cosign's referrers/tag scheme), so
# the index and its digest never change. Files land in $RUNNER_TEMP/evidence/.
#   evidence.sh assets      the Release assets, taken from the registry after verification (the
#                           bytes a consumer verifies, not a local copy): per platform
#                           <image>-<tag>-<os>-<arch>.spdx.json / .cdx.json, and
#                           <image>-<tag>.provenance.json (the in-toto statement); from the ghcr.io
#                           image when there is one, else the first of IMAGE_REFS
# Reads IMAGE_REFS, RUNNER_TEMP (outputs.json from up.sh), GITHUB_* (see steps.ts provenance),
# the cosign mode and registry credentials (cosign_setup in common.sh), BUILDKIT_VERSION.
set -euo pipefail
# shellcheck source=scripts/release/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

: "${RUNNER_TEMP:?}" "${GITHUB_REF_NAME:?}"
what="${1:-}"
outputs="$(stack_outputs)"
evidence="${RUNNER_TEMP}/evidence"
mkdir -p "${evidence}"
image_refs
cosign_setup

# attest TYPE PREDICATE: attests PREDICATE to every registry's image, then verifies it there.
attest() {
	local ref
	for ref in "${REFS[@]}"; do
		cosign attest --yes "${COSIGN_SIGN_ARGS[@]}" --type "$1" --predicate "$2" "${ref}"
		cosign verify-attestation "${COSIGN_VERIFY_ARGS[@]}" --type "$1" "${ref}" >/dev/null
		log "attested $1 ($(basename "$2")) to ${ref}"
	done
}

name="$(jq -r '.imageRepositories[0] | split("/") | last' "${outputs}")"
# platform_digests: "<platform>\t<manifest digest>" lines of the outputs.
platform_digests() { jq -r '.platformDigests | to_entries[] | [.key, .value] | @tsv' "${outputs}"; }
case "${what}" in
sbom)
	# One scan per platform from the first registry: every registry holds the same manifests.
	repo="${REFS[0]%@*}"
	while IFS=$'\t' read -r platform digest; do
		base="${evidence}/${name}-${GITHUB_REF_NAME}-${platform//\//-}"
		syft scan --quiet "registry:${repo}@${digest}" \
			-o "spdx-json=${base}.spdx.json" -o "cyclonedx-json=${base}.cdx.json"
		jq -e --arg d "${digest}" 'tostring | contains($d)' "${base}.spdx.json" >/dev/null ||
			fail "the SPDX SBOM of ${platform} does not name its manifest ${digest}"
		log "SBOM ${platform}: $(jq '.packages | length' "${base}.spdx.json") packages"
		attest spdxjson "${base}.spdx.json"
		attest cyclonedx "${base}.cdx.json"
	done < <(platform_digests)
	;;
provenance)
	file="${evidence}/${name}-${GITHUB_REF_NAME}.provenance.json"
	provenance_predicate "${outputs}" >"${file}"
	attest slsaprovenance1 "${file}"
	;;
assets)
	ref="${REFS[0]}"
	for r in "${REFS[@]}"; do [[ "${r}" == ghcr.io/* ]] && ref="${r}" && break; done
	assets="${RUNNER_TEMP}/assets"
	rm -rf "${assets}" && mkdir -p "${assets}"
	# verified TYPE: the verified statements of TYPE attached to ${ref}, one JSON per line.
	verified() {
		local out
		out="$(cosign verify-attestation "${COSIGN_VERIFY_ARGS[@]}" --type "$1" "${ref}")" ||
			fail "no verified $1 attestation on ${ref}"
		jq -c '(.payload // .dsseEnvelope.payload) | select(. != null) | @base64d | fromjson' <<<"${out}"
	}
	# last_matching TEXT: the last stdin line containing TEXT (a re-run attests again); empty if none.
	last_matching() { grep -F "$1" | tail -n1 || true; }
	statements="$(verified slsaprovenance1)"
	jq . <<<"$(tail -n1 <<<"${statements}")" >"${assets}/${name}-${GITHUB_REF_NAME}.provenance.json"
	while IFS=$'\t' read -r platform digest; do
		base="${assets}/${name}-${GITHUB_REF_NAME}-${platform//\//-}"
		for kind in spdxjson:spdx cyclonedx:cdx; do
			statements="$(verified "${kind%%:*}")"
			doc="$(jq -c .predicate <<<"${statements}" | last_matching "${digest}")"
			[[ -n "${doc}" ]] || fail "no verified ${kind%%:*} SBOM of ${platform} (${digest}) on ${ref}"
			jq . <<<"${doc}" >"${base}.${kind#*:}.json"
		done
	done < <(platform_digests)
	[[ -s "${assets}/${name}-${GITHUB_REF_NAME}.provenance.json" ]] || fail "no verified provenance on ${ref}"
	log "Release assets from ${ref}: $(cd "${assets}" && echo *)"
	;;
*) fail "usage: evidence.sh sbom|provenance|assets (got '${what}')" ;;
esac
