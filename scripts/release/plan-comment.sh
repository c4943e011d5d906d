#!/usr/bin/env bash
# Posts the release plan of the preview that preview.sh recorded to the pull request, as ONE
# comment: created by the first run, edited by every later one. The body is the plan
# (scripts/release-plan.ts --comment) with pulumi's raw output collapsed below it; its first line
# is the plan's marker, by which the comment is found again among this workflow's own comments.
# The same body goes to the job summary.
#   plan-comment.sh                  the plan of the preview in $RUNNER_TEMP/preview
#   plan-comment.sh --not-previewed  a run that did not get the preview's secret (Dependabot's):
#                                    why, and how to get the plan (release-plan.ts --not-previewed),
#                                    in the same comment; a refused comment is only a warning
#                                    there (the job summary says it), so that job stays green
# Reads GH_TOKEN (pull-requests: write), GITHUB_REPOSITORY, PR_NUMBER, RUNNER_TEMP,
# GITHUB_STEP_SUMMARY (optional), COMMENT_AUTHOR (default github-actions[bot]: the job token's
# user), ACTOR (--not-previewed: github.actor); the tags of the clone (checkout with
# fetch-depth: 0) are the released versions.
set -euo pipefail
# shellcheck source=scripts/release/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

: "${GH_TOKEN:?}" "${GITHUB_REPOSITORY:?}" "${PR_NUMBER:?}" "${RUNNER_TEMP:?}"
[[ "${PR_NUMBER}" =~ ^[0-9]+$ ]] || fail "PR_NUMBER ${PR_NUMBER} is not a pull request number"
author="${COMMENT_AUTHOR:-github-actions[bot]}"
dir="${RUNNER_TEMP}/preview"
mode="${1:-plan}"
plan() { "${RELEASE_ROOT}/node_modules/.bin/ts-node" --transpile-only "${RELEASE_ROOT}/scripts/release-plan.ts" "$@"; }
case "${mode}" in
plan)
	[[ -s "${dir}/events.json" ]] || fail "no preview events in ${dir}/events.json (did preview.sh run?)"
	git tag --list >"${dir}/tags.txt"
	plan --preview "${dir}/events.json" --tags "${dir}/tags.txt" --comment --diff "${dir}/output.txt" \
		>"${dir}/comment.md" || fail "the release plan could not be rendered (see above)"
	;;
--not-previewed)
	mkdir -p "${dir}"
	plan --not-previewed "${ACTOR:?ACTOR is github.actor}" >"${dir}/comment.md" ||
		fail "the comment could not be rendered (see above)"
	;;
*) fail "usage: plan-comment.sh [--not-previewed] (got '${mode}')" ;;
esac
if [[ -n "${GITHUB_STEP_SUMMARY:-}" ]]; then cat "${dir}/comment.md" >>"${GITHUB_STEP_SUMMARY}"; fi

# upsert: edits this workflow's comment carrying the marker, else creates it.
upsert() {
	local marker id
	marker="$(head -n 1 "${dir}/comment.md")"
	id="$(gh api --paginate "repos/${GITHUB_REPOSITORY}/issues/${PR_NUMBER}/comments" |
		jq -rs --arg marker "${marker}" --arg author "${author}" \
			'[.[][] | select(.user.login == $author and (.body | startswith($marker)))][0].id // empty')" || return 1
	body() { jq -n --rawfile body "${dir}/comment.md" '{body: $body}'; }
	if [[ -n "${id}" ]]; then
		body | gh api --method PATCH "repos/${GITHUB_REPOSITORY}/issues/comments/${id}" --input - >/dev/null || return 1
		log "edited the release plan comment ${id} on #${PR_NUMBER}"
	else
		body | gh api --method POST "repos/${GITHUB_REPOSITORY}/issues/${PR_NUMBER}/comments" --input - >/dev/null || return 1
		log "posted the release plan on #${PR_NUMBER}"
	fi
}
if ! upsert; then
	[[ "${mode}" == --not-previewed ]] || fail "could not post the release plan on #${PR_NUMBER} (see above)"
	printf '::warning::%s\n' "could not comment on #${PR_NUMBER} (token without pull-requests: write?); the job summary says why there is no preview"
fi
