# Sourced by the release steps (scripts/release/*.sh): repository root as working directory, the
# TypeScript step helper, error reporting as a workflow annotation, and the tag fetch.
# shellcheck shell=bash

RELEASE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "${RELEASE_ROOT}" || exit 1

# fail MESSAGE: a workflow error annotation (plain text outside Actions), then exit 1.
fail() {
	printf '::error::%s\n' "$*" >&2
	exit 1
}

log() { printf '[release] %s\n' "$*" >&2; }

# steps ARGS...: scripts/release/steps.ts (the steps' parsing and decisions, tested in TypeScript).
steps() {
	"${RELEASE_ROOT}/node_modules/.bin/ts-node" --transpile-only "${RELEASE_ROOT}/scripts/release/steps.ts" "$@"
}

# fetch_tags: makes the clone's tags exactly origin's tags at this moment: new ones appear, moved
# ones move (--force), deleted ones disappear (--prune-tags). The checkout keeps no credentials
# (persist-credentials: false); when GIT_FETCH_TOKEN is set (the job's read-only token) it reaches
# this one git command through GIT_CONFIG_* variables, never argv or .git/config.
fetch_tags() {
	local auth=()
	if [[ -n "${GIT_FETCH_TOKEN:-}" ]]; then
		auth=(env GIT_CONFIG_COUNT=1
			"GIT_CONFIG_KEY_0=http.${GITHUB_SERVER_URL:-https://github.com}/.extraheader"
			"GIT_CONFIG_VALUE_0=AUTHORIZATION: basic $(printf 'x-access-token:%s' "${GIT_FETCH_TOKEN}" | base64 -w0)")
	fi
	"${auth[@]}" git fetch --quiet --force --prune --prune-tags --tags origin
}
