#!/usr/bin/env bash
# Signs every image of the release by digest with cosign, then verifies each signature.
# Reads:
#   IMAGE_REFS          space-separated <repository>@sha256:<digest> (outputs.sh `refs`); never a tag
#   SIGNING_IDENTITY    expected certificate identity of a keyless signature (outputs.sh)
#   GHCR_USERNAME + GHCR_TOKEN, GCR_TOKEN   registry logins for cosign, each only when set
#   COSIGN_KEY + COSIGN_PUBLIC_KEY (+ COSIGN_PASSWORD)   key mode, used by the offline rehearsal:
#       sign with the key, no transparency log or other Sigstore service (nothing is reachable
#       offline), verify with the public key. Unset (the workflow): keyless, a Fulcio certificate for the job's GitHub OIDC
#       identity, logged in Rekor, verified against SIGNING_IDENTITY and GitHub's OIDC issuer.
set -euo pipefail
# shellcheck source=scripts/release/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

read -ra refs <<<"${IMAGE_REFS:-}"
((${#refs[@]} > 0)) || fail "IMAGE_REFS lists no image to sign"
for ref in "${refs[@]}"; do
	# Checked again here, where it matters: only ever sign a digest.
	[[ "${ref}" =~ ^[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)+@sha256:[0-9a-f]{64}$ ]] ||
		fail "refusing to sign ${ref}: not <repository>@sha256:<digest>"
done

if [[ -n "${GHCR_TOKEN:-}" ]]; then
	printf '%s' "${GHCR_TOKEN}" | cosign login ghcr.io --username "${GHCR_USERNAME:?}" --password-stdin
fi
if [[ -n "${GCR_TOKEN:-}" ]]; then
	printf '%s' "${GCR_TOKEN}" | cosign login gcr.io --username oauth2accesstoken --password-stdin
fi

if [[ -n "${COSIGN_KEY:-}" ]]; then
	: "${COSIGN_PUBLIC_KEY:?COSIGN_PUBLIC_KEY is needed to verify a key-mode signature}"
	# A signing config with no services: no Fulcio, no Rekor, no timestamp authority (cosign v3's
	# replacement for --tlog-upload=false). cosign still tries to refresh Sigstore's TUF root
	# first and warns when it cannot; nothing else leaves the machine.
	signing_config="$(mktemp)"
	trap 'rm -f "${signing_config}"' EXIT
	cosign signing-config create --out "${signing_config}"
	sign_args=(--key "${COSIGN_KEY}" --signing-config "${signing_config}")
	verify_args=(--key "${COSIGN_PUBLIC_KEY}" --insecure-ignore-tlog=true)
else
	: "${SIGNING_IDENTITY:?}"
	sign_args=()
	verify_args=(--certificate-identity "${SIGNING_IDENTITY}"
		--certificate-oidc-issuer https://token.actions.githubusercontent.com)
fi
for ref in "${refs[@]}"; do
	cosign sign --yes "${sign_args[@]}" "${ref}"
	cosign verify "${verify_args[@]}" "${ref}" >/dev/null
	log "signed and verified ${ref}"
done
