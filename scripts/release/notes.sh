#!/usr/bin/env bash
# Renders the GitHub Release body into $RUNNER_TEMP/body.md and its flags into
# $RUNNER_TEMP/meta.json ({"previousTag","prerelease","latest"}). The tags are fetched again first,
# so "Latest" is decided against every tag that exists now, like the image's `latest` tag: a run
# that finishes after a newer release never takes "Latest" back.
# Reads GITHUB_REF, GITHUB_REF_NAME, GITHUB_SHA, GITHUB_REPOSITORY(_ID), GITHUB_SERVER_URL, RUNNER_TEMP,
# STACK_OUTPUTS (outputs.sh `json`), GH_TOKEN (for `gh api`: the notes GitHub generates),
# GIT_FETCH_TOKEN (optional, see common.sh), ROLLBACK_TO (optional: the rollback target takes
# "Latest", docs/release.md "Rollback"), and $RUNNER_TEMP/visibility.json (visibility.sh check: a
# registry that is not public is named in the body with the action to take).
set -euo pipefail
# shellcheck source=scripts/release/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

: "${RUNNER_TEMP:?}" "${GITHUB_REF_NAME:?}" "${GITHUB_REPOSITORY:?}" "${STACK_OUTPUTS:?}"
tag="${GITHUB_REF_NAME}"
visibility="${RUNNER_TEMP}/visibility.json"
[[ -s "${visibility}" ]] || fail "${visibility} is missing: run visibility.sh check first (the body must say who can pull)"
notes() { "${RELEASE_ROOT}/node_modules/.bin/ts-node" --transpile-only scripts/release-notes.ts "$@"; }

fetch_tags
meta_out="${RUNNER_TEMP}/notes-metadata.out"
: >"${meta_out}"
GITHUB_OUTPUT="${meta_out}" bash scripts/release/metadata.sh
released="$(sed -n 's/^released-versions=//p' "${meta_out}")"

notes --print-meta --version "${tag}" --released-versions "${released}" \
	${ROLLBACK_TO:+--rollback-to "${ROLLBACK_TO}"} >"${RUNNER_TEMP}/meta.json"
previous="$(jq -r .previousTag "${RUNNER_TEMP}/meta.json")"
args=(-f "tag_name=${tag}")
if [[ -n "${previous}" ]]; then args+=(-f "previous_tag_name=${previous}"); fi
gh api --method POST "repos/${GITHUB_REPOSITORY}/releases/generate-notes" "${args[@]}" --jq .body \
	>"${RUNNER_TEMP}/generated.md"
printf '%s' "${STACK_OUTPUTS}" | notes --version "${tag}" --repository "${GITHUB_REPOSITORY}" \
	--server-url "${GITHUB_SERVER_URL:-https://github.com}" --released-versions "${released}" \
	${GITHUB_REPOSITORY_ID:+--repository-id "${GITHUB_REPOSITORY_ID}"} \
	--notes-file "${RUNNER_TEMP}/generated.md" --visibility "${visibility}" >"${RUNNER_TEMP}/body.md"
log "Release body: ${RUNNER_TEMP}/body.md; flags: $(jq -c . "${RUNNER_TEMP}/meta.json")"
