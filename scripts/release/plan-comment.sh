#!/usr/bin/env bash
# Posts the release plan of the preview that preview.sh recorded to the pull request, as ONE
# comment: created by the first run, edited by every later one. The body is the plan
# (scripts/release-plan.ts --comment) with pulumi's raw output collapsed below it; its first line
# is the plan's marker, by which the comment is found again among this workflow's own comments.
# The same body goes to the job summary.
# Reads GH_TOKEN (pull-requests: write), GITHUB_REPOSITORY, PR_NUMBER, RUNNER_TEMP,
# GITHUB_STEP_SUMMARY (optional), COMMENT_AUTHOR (default github-actions[bot]: the job token's
# user); the tags of the clone (checkout with fetch-depth: 0) are the released versions.
set -euo pipefail
# shellcheck source=scripts/release/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

: "${GH_TOKEN:?}" "${GITHUB_REPOSITORY:?}" "${PR_NUMBER:?}" "${RUNNER_TEMP:?}"
[[ "${PR_NUMBER}" =~ ^[0-9]+$ ]] || fail "PR_NUMBER ${PR_NUMBER} is not a pull request number"
author="${COMMENT_AUTHOR:-github-actions[bot]}"
dir="${RUNNER_TEMP}/preview"
[[ -s "${dir}/events.json" ]] || fail "no preview events in ${dir}/events.json (did preview.sh run?)"

git tag --list >"${dir}/tags.txt"
"${RELEASE_ROOT}/node_modules/.bin/ts-node" --transpile-only "${RELEASE_ROOT}/scripts/release-plan.ts" \
	--preview "${dir}/events.json" --tags "${dir}/tags.txt" --comment --diff "${dir}/output.txt" \
	>"${dir}/comment.md" || fail "the release plan could not be rendered (see above)"
if [[ -n "${GITHUB_STEP_SUMMARY:-}" ]]; then cat "${dir}/comment.md" >>"${GITHUB_STEP_SUMMARY}"; fi

marker="$(head -n 1 "${dir}/comment.md")"
id="$(gh api --paginate "repos/${GITHUB_REPOSITORY}/issues/${PR_NUMBER}/comments" |
	jq -rs --arg marker "${marker}" --arg author "${author}" \
		'[.[][] | select(.user.login == $author and (.body | startswith($marker)))][0].id // empty')"
body() { jq -n --rawfile body "${dir}/comment.md" '{body: $body}'; }
if [[ -n "${id}" ]]; then
	body | gh api --method PATCH "repos/${GITHUB_REPOSITORY}/issues/comments/${id}" --input - >/dev/null
	log "edited the release plan comment ${id} on #${PR_NUMBER}"
else
	body | gh api --method POST "repos/${GITHUB_REPOSITORY}/issues/${PR_NUMBER}/comments" --input - >/dev/null
	log "posted the release plan on #${PR_NUMBER}"
fi
