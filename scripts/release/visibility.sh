#!/usr/bin/env bash
# Public images: can a stranger pull what this release published?
#   visibility.sh check    before notes.sh: a manifest GET by digest of every published ref, with
#                          no credentials (the registry's anonymous token flow), against the stack
#                          output `registryVisibility` (gcrPublic, ghcrPublic). The findings go to
#                          $RUNNER_TEMP/visibility.json (notes.sh puts them in the Release body),
#                          the job summary and the log (annotations). Exits 0 whatever it finds.
#   visibility.sh enforce  after github-release.sh: exit 1, naming the one action, when a registry
#                          the program makes public (gcr.io with gcrPublic) refused the anonymous
#                          pull. The Release is announced by then, with the warning in its body.
# docs/release.md, "Public images". Reads RUNNER_TEMP, STACK_OUTPUTS (or $RUNNER_TEMP/outputs.json),
# PULUMI_STACK (prod), GITHUB_EVENT_PATH, GITHUB_STEP_SUMMARY, CQ_REGISTRY_CA. Never any credential.
set -euo pipefail
# shellcheck source=scripts/release/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

: "${RUNNER_TEMP:?}"
findings="${RUNNER_TEMP}/visibility.json"
case "${1:-}" in
check)
	outputs="$(stack_outputs)"
	# No registry credential reaches the check, whatever this job holds.
	(
		unset GCR_TOKEN GHCR_TOKEN GHCR_USERNAME GITHUB_TOKEN GH_TOKEN
		steps visibility --file "${outputs}"
	) >"${findings}" || fail "the anonymous-pull check failed (see above)"
	steps visibility-report --file "${findings}" --format annotations
	if [[ -n "${GITHUB_STEP_SUMMARY:-}" ]]; then
		steps visibility-report --file "${findings}" --format summary >>"${GITHUB_STEP_SUMMARY}"
	fi
	log "anonymous pulls: $(jq -r 'map("\(.key)=\(.severity)") | join(" ")' "${findings}")"
	;;
enforce)
	[[ -s "${findings}" ]] || fail "${findings} is missing: run visibility.sh check first"
	steps visibility-report --file "${findings}" --format failures >/dev/null 2>"${RUNNER_TEMP}/visibility.err" ||
		fail "not public as configured: $(sed 's/^release step: //' "${RUNNER_TEMP}/visibility.err" | tr '\n' ' ')"
	log "anonymous pulls: nothing the program should have made public is refused"
	;;
*) fail "usage: visibility.sh check|enforce" ;;
esac
