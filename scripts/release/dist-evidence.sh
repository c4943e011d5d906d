#!/usr/bin/env bash
# The evidence of the release's files, the image's evidence for every other door (docs/release.md,
# "Evidence for the zips"; names in tooling/blobEvidence.ts), written into $RUNNER_TEMP/dist/github
# beside the zips (the Release assets):
#   cq-source-s3_<os>_<arch>.spdx.json     per binary of the GitHub zips, an SPDX SBOM (syft),
#                                          checked to describe that binary's SHA-256
#   cq-source-s3_provenance.sigstore.json  `cosign attest-blob` of one in-toto statement: the
#                                          release's SLSA v1 provenance predicate (the image's),
#                                          every file of dist/ a subject by SHA-256 (github/…,
#                                          hub/…: the zips, checksums.txt, the SBOMs, the Hub
#                                          package's every file)
#   checksums.txt.sigstore.json            `cosign sign-blob` of checksums.txt
# then each bundle is verified with cosign. Keyless in the workflow, key mode in the rehearsal
# (cosign_setup in common.sh). Reads RUNNER_TEMP (dist/ from dist.sh, outputs.json), the
# variables of steps.ts provenance, BUILDKIT_VERSION and the cosign mode.
set -euo pipefail
# shellcheck source=scripts/release/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

: "${RUNNER_TEMP:?}"
dist="${RUNNER_TEMP}/dist"
github="${dist}/github"
[[ -s "${github}/checksums.txt" && -s "${dist}/hub/package.json" ]] ||
	fail "no ${dist} (dist.sh, or the dist artifact): nothing to attest"
(cd "${github}" && sha256sum --quiet --strict -c checksums.txt) || fail "${github}: the zips do not match checksums.txt"
outputs="$(stack_outputs)"
cosign_setup
work="$(mktemp -d)"
# A re-run starts from the build's files only: evidence of an earlier attempt is no subject.
rm -f "${github}"/*.sigstore.json "${github}"/*.spdx.json

mapfile -t zips < <(find "${github}" -maxdepth 1 -type f -name 'cq-source-s3_*.zip' | sort)
((${#zips[@]} > 0)) || fail "no cq-source-s3_*.zip in ${github}"
for zip in "${zips[@]}"; do
	target="$(basename "${zip}" .zip)"
	target="${target#cq-source-s3_}"
	entry="$(unzip -Z1 "${zip}")"
	[[ "${entry}" == cq-source-s3 || "${entry}" == cq-source-s3.exe ]] || fail "${zip}: its one entry is ${entry}, not the binary"
	mkdir -p "${work}/${target}"
	unzip -q -o "${zip}" -d "${work}/${target}"
	sbom="${github}/cq-source-s3_${target}.spdx.json"
	syft scan --quiet "file:${work}/${target}/${entry}" -o "spdx-json=${sbom}"
	sum="$(sha256sum "${work}/${target}/${entry}" | cut -d' ' -f1)"
	jq -e --arg s "${sum}" '[.files[]?.checksums[]? | select(.algorithm == "SHA256") | .checksumValue] | index($s) != null' \
		"${sbom}" >/dev/null || fail "the SBOM of ${target} does not describe its binary (${sum})"
	log "SBOM ${target}: $(jq '.packages | length' "${sbom}") packages"
done

provenance_predicate "${outputs}" >"${work}/predicate.json"
steps blob-statement --file "${work}/predicate.json" "${dist}" >"${work}/statement.json"
log "provenance statement: $(jq '.subject | length' "${work}/statement.json") subjects"
cosign attest-blob --yes "${COSIGN_SIGN_ARGS[@]}" --statement "${work}/statement.json" \
	--bundle "${github}/cq-source-s3_provenance.sigstore.json"
cosign sign-blob --yes "${COSIGN_SIGN_ARGS[@]}" --bundle "${github}/checksums.txt.sigstore.json" "${github}/checksums.txt"

# Verified as made: the signature of checksums.txt, the provenance about the first zip.
cosign verify-blob "${COSIGN_VERIFY_ARGS[@]}" --bundle "${github}/checksums.txt.sigstore.json" "${github}/checksums.txt" >/dev/null
cosign verify-blob-attestation "${COSIGN_VERIFY_ARGS[@]}" --type slsaprovenance1 \
	--bundle "${github}/cq-source-s3_provenance.sigstore.json" "${zips[0]}" >/dev/null
rm -rf "${work}"
log "dist evidence: $(cd "${github}" && echo *.sigstore.json *.spdx.json)"
