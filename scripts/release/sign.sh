#!/usr/bin/env bash
# Signs every image of the release by digest with cosign, then verifies each signature.
# Reads:
#   IMAGE_REFS          space-separated <repository>@sha256:<digest> (outputs.sh `refs`); never a tag
#   SIGNING_IDENTITY, registry credentials, COSIGN_KEY mode: see cosign_setup in common.sh
set -euo pipefail
# shellcheck source=scripts/release/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

image_refs
cosign_setup
for ref in "${REFS[@]}"; do
	cosign sign --yes "${COSIGN_SIGN_ARGS[@]}" "${ref}"
	cosign verify "${COSIGN_VERIFY_ARGS[@]}" "${ref}" >/dev/null
	log "signed and verified ${ref}"
done
