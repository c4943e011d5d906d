#!/usr/bin/env bash
# Publishes the Hub package of this release, $RUNNER_TEMP/dist/hub (dist.sh: package.json, the
# five zips, tables.json, docs/), to the CloudQuery Hub with the CloudQuery CLI:
#   cloudquery plugin publish --finalize -D $RUNNER_TEMP/dist/hub
# An exact version is immutable on the Hub as on every door: before anything is sent, the Hub's
# copy of this version is compared with the package (steps.ts hub-guard): the same checksums, a
# no-op; other ones, refused; a draft left by a stopped run, replaced. After the publish, the
# Hub must hold exactly this package, finalized. A failed publish ends with the one action to take.
# Runs only when the stack output hubPublish is true (the release workflow's `if:`).
# Reads RUNNER_TEMP, CLOUDQUERY_API_KEY (the Actions secret the program manages) and
# CLOUDQUERY_API_URL (optional: the Hub's API by default; the rehearsal's stand-in Hub).
set -euo pipefail
# shellcheck source=scripts/release/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

: "${RUNNER_TEMP:?}"
package="${RUNNER_TEMP}/dist/hub"
[[ -s "${package}/package.json" ]] || fail "no ${package}/package.json (dist.sh): nothing to publish to the Hub"
[[ -n "${CLOUDQUERY_API_KEY:-}" ]] ||
	fail "CLOUDQUERY_API_KEY is empty: set the stack's cloudqueryApiKey (pulumi config set --secret cloudqueryApiKey …) and run pulumi up, which writes the Actions secret; or set hubPublish to false"
command -v cloudquery >/dev/null || fail "the cloudquery CLI is not on PATH (toolchain/cloudquery)"
# Every zip must still be the one package.json names: what the guard compares is what is uploaded.
while IFS=$'\t' read -r path checksum; do
	[[ "$(sha256sum "${package}/${path}" | cut -d' ' -f1)" == "${checksum#sha256:}" ]] ||
		fail "${package}/${path} does not match its checksum in package.json"
done < <(jq -r '.supported_targets[] | [.path, .checksum] | @tsv' "${package}/package.json")

decision="$(steps hub-guard --file "${package}/package.json")" || fail "Hub: refused before publishing (see above)"
if [[ "${decision}" == "hub=published" ]]; then
	log "Hub: already published with these checksums; nothing to do"
	exit 0
fi
publish_log="${RUNNER_TEMP}/hub-publish.log"
# --telemetry-level none: a release job sends nothing but the package.
if ! cloudquery plugin publish --finalize -D "${package}" --telemetry-level none >"${publish_log}" 2>&1; then
	cat "${publish_log}" >&2
	action="$(steps hub-error --file "${package}/package.json" <"${publish_log}")"
	fail "Hub: cloudquery plugin publish failed: ${action:-see the output above}"
fi
cat "${publish_log}" >&2
# The Hub must now hold exactly this package, finalized: the guard's no-op answer.
after="$(steps hub-guard --file "${package}/package.json" 2>/dev/null)" || true
[[ "${after}" == "hub=published" ]] ||
	fail "Hub: the publish reported success but the Hub does not hold this package finalized (hub-guard: ${after:-refused})"
log "Hub: $(jq -r '"\(.team)/\(.name)@\(.version)"' "${package}/package.json") published and finalized"
