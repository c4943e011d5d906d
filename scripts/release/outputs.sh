#!/usr/bin/env bash
# Reads the stack outputs after `up` and refuses them, before anything is signed or announced,
# unless they are complete and belong to this release (version = the tag, commit = GITHUB_SHA,
# one digest in every registry). Appends to $GITHUB_OUTPUT:
#   digest=sha256:…   refs=<repo>@sha256:… …   signing-identity=<keyless certificate identity>
#   json=<the outputs, compact>   (multi-line form with a random delimiter)
# The outputs come from $RUNNER_TEMP/outputs.json, which up.sh writes right after its update (once
# the lock is released, another tag's run may replace the stack's outputs); `pulumi stack output`
# only when that file is absent. Reads GITHUB_REF_NAME, GITHUB_SHA, GITHUB_REPOSITORY,
# GITHUB_SERVER_URL, GITHUB_OUTPUT, RUNNER_TEMP, PULUMI_STACK (prod).
set -euo pipefail
# shellcheck source=scripts/release/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

: "${GITHUB_OUTPUT:?}" "${RUNNER_TEMP:?}" "${GITHUB_REF_NAME:?}" "${GITHUB_REPOSITORY:?}"
stack="${PULUMI_STACK:-prod}"
file="${RUNNER_TEMP}/outputs.json"
if [[ ! -s "${file}" ]]; then pulumi stack output --stack "${stack}" --json >"${file}"; fi
checked="$(steps outputs --file "${file}")" || fail "the stack outputs are not this release's (see above)"
# The renderer must accept them too, or the Release could not be announced after signing.
"${RELEASE_ROOT}/node_modules/.bin/ts-node" --transpile-only scripts/release-notes.ts \
	--version "${GITHUB_REF_NAME}" --repository "${GITHUB_REPOSITORY}" --outputs "${file}" >/dev/null
delimiter="EOF_$(openssl rand -hex 16)"
{
	printf '%s\n' "${checked}"
	echo "json<<${delimiter}"
	jq -c . "${file}"
	echo "${delimiter}"
} >>"${GITHUB_OUTPUT}"
printf '%s\n' "${checked}" | sed 's/^/[release] /' >&2
