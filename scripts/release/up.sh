#!/usr/bin/env bash
# `pulumi up` of the release: only the image component and its children (--target, from
# lib/imageTarget.ts), with the policy pack. Releases of different tags run in parallel workflow
# runs and serialize on the state lock: while `up` fails because the stack is locked, it waits and
# tries again (bounded); any other failure is final. Before EVERY attempt it fetches the tags and
# recomputes the metadata and the stack config (metadata.sh, configure.sh), so `latest`/`vX.Y`
# are decided against every tag that exists when the image is actually pushed, whichever run
# gets the lock first; then the exact-tag guard (exact-tags.sh) refuses to move `vX.Y.Z` /
# `vX.Y.Z-<sha>`, or switches to re-tagging this commit's existing images (no build). After a
# re-tag, the index digest must be the one the exact tags already held, or it fails before
# anything is signed. Appends released-versions=<what the successful attempt used> to
# $GITHUB_OUTPUT and leaves the stack outputs, read right after the update, in
# $RUNNER_TEMP/outputs.json.
# A lock that is provably stale (tooling/stateLock.ts: written on this host by a pid that is gone, or
# older than the publish job can live) is deleted — exactly that lock file — and `up` runs again at
# once; processes an attempt leaves behind (a provider of a killed engine) are ended after it
# (docs/release.md, "When something fails").
# Every attempt's exact-tag guard reads gcr.io with a fresh access token: GCR_TOKEN_COMMAND (the
# workflow: `gcloud auth print-access-token`, from the credentials file google-github-actions/auth
# wrote) is run before each attempt and its output becomes GCR_TOKEN. A token minted once at the
# job's start lives 1 h; an attempt may begin after 30 min of waiting for the lock and more
# (docs/release.md, "A fresh token per attempt"). Unset: GCR_TOKEN is used as given (the rehearsal,
# which reads no gcr.io).
# Reads what metadata.sh, configure.sh and exact-tags.sh read, and:
#   UP_LOCK_ATTEMPTS (60), UP_LOCK_WAIT_SECONDS (30)  the bound: 60 × 30 s = 30 min of waiting
#   UP_STALE_LOCK_SECONDS (5400)  a lock older than this is stale: release.yml's publish job
#                     timeout-minutes (90), after which GitHub has ended the job that wrote it
#   GCR_TOKEN_COMMAND  the command printing a fresh gcr.io access token (split on spaces); unset: none
#   PULUMI_STACK (prod)
#   PULUMI_UP_COMMAND ("pulumi up")  the command given the `pulumi up` arguments; the rehearsal
#                     substitutes scripts/release/local-up.ts (no Node.js language host here)
set -euo pipefail
# shellcheck source=scripts/release/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

: "${GITHUB_OUTPUT:?}" "${GITHUB_SHA:?}" "${GITHUB_REF_NAME:?}" "${RUNNER_TEMP:?}"
stack="${PULUMI_STACK:-prod}"
attempts="${UP_LOCK_ATTEMPTS:-60}"
wait_s="${UP_LOCK_WAIT_SECONDS:-30}"
stale_s="${UP_STALE_LOCK_SECONDS:-5400}"
read -ra up_cmd <<<"${PULUMI_UP_COMMAND:-pulumi up}"
# Written by the DIY backends (gs://, file://) when another update holds the stack
# (pkg/backend/diy/lock.go of the Pulumi CLI).
locked_msg="the stack is currently locked"

mapfile -t targets < <(steps targets --stack "${stack}")
((${#targets[@]} > 0)) || fail "no --target values for stack ${stack}"
args=(--stack "${stack}" --yes --non-interactive --diff
	--policy-pack policy --policy-pack-config "${RUNNER_TEMP}/policy-config.json"
	--message "release ${GITHUB_REF_NAME} (${GITHUB_SHA})")
for t in "${targets[@]}"; do args+=(--target "${t}"); done

meta="${RUNNER_TEMP}/release-metadata.out"
out="${RUNNER_TEMP}/pulumi-up.log"
# reap ID: ends the processes an attempt left (they inherit PULUMI_UP_ATTEMPT=ID from it), e.g. the
# docker-build provider of an engine that was killed; never anything this attempt did not start.
# remove_lock URL: deletes exactly that lock file (never `pulumi cancel`, which deletes every lock).
# Both are scripts/lib/stateLocks.ts, the implementation local:up, the e2e and the bench use too.
reap() {
	local left
	left="$(steps reap --attempt "$1")"
	if [[ -n "${left}" ]]; then log "ended what the attempt left running: pid ${left}"; fi
}
remove_lock() {
	steps remove-lock --url "$1" || fail "cannot delete the stale lock $1: run: ${cancel_cmd}"
}
# refresh_gcr_token: GCR_TOKEN from a new run of GCR_TOKEN_COMMAND (masked in the job's log);
# nothing when the command is unset. A failure to mint stops the run: the guard would fail closed anyway.
refresh_gcr_token() {
	[[ -n "${GCR_TOKEN_COMMAND:-}" ]] || return 0
	local cmd token
	read -ra cmd <<<"${GCR_TOKEN_COMMAND}"
	token="$("${cmd[@]}")" || fail "could not mint a gcr.io access token with '${GCR_TOKEN_COMMAND}' (its error is above); re-run this job"
	[[ -n "${token}" ]] || fail "'${GCR_TOKEN_COMMAND}' printed no gcr.io access token"
	if [[ "${GITHUB_ACTIONS:-}" == true ]]; then echo "::add-mask::${token}"; fi
	export GCR_TOKEN="${token}"
}
cancel_cmd="pulumi cancel --yes --stack ${stack}"
for ((attempt = 1; ; attempt++)); do
	fetch_tags
	: >"${meta}"
	GITHUB_OUTPUT="${meta}" bash scripts/release/metadata.sh
	released="$(sed -n 's/^released-versions=//p' "${meta}")"
	commit_time="$(sed -n 's/^commit-time=//p' "${meta}")"
	RELEASED_VERSIONS="${released}" COMMIT_TIME="${commit_time}" bash scripts/release/configure.sh
	refresh_gcr_token
	bash scripts/release/exact-tags.sh

	log "attempt ${attempt}/${attempts}: ${up_cmd[*]} (targets: ${targets[*]})"
	attempt_id="$$-${attempt}-${RANDOM}"
	rc=0
	PULUMI_UP_ATTEMPT="${attempt_id}" "${up_cmd[@]}" "${args[@]}" 2>&1 | tee "${out}" || rc=$?
	reap "${attempt_id}"
	if ((rc == 0)); then
		# Read at once: another tag's run may take the lock now and replace the stack outputs. If it
		# already did (its update finished first), `up` again: idempotent, and bounded like the lock.
		pulumi stack output --stack "${stack}" --json >"${RUNNER_TEMP}/outputs.json"
		if ! jq -e --arg v "${GITHUB_REF_NAME}" --arg c "${GITHUB_SHA}" '.version == $v and .commit == $c' \
			"${RUNNER_TEMP}/outputs.json" >/dev/null; then
			((attempt < attempts)) || fail "another update replaced the stack outputs after each of ${attempts} attempts; re-run this job"
			log "the stack outputs are another update's (it finished right after this one): up again"
			continue
		fi
		# A re-tag must reproduce the index the exact tags hold (the same sources, in the same order).
		expected="$(sed -n 's/^index-digest=//p' "${RUNNER_TEMP}/exact-tags.out")"
		got="$(jq -r '.imageDigest // ""' "${RUNNER_TEMP}/outputs.json")"
		if [[ -n "${expected}" && "${got}" != "${expected}" ]]; then
			fail "re-tagging gave the index ${got}, not ${expected} which the exact tags held: the tags pushed by this update moved; do not sign; see docs/release.md, 'Exact tags'"
		fi
		printf 'released-versions=%s\n' "${released}" >>"${GITHUB_OUTPUT}"
		log "up succeeded on attempt ${attempt} with releasedVersions=${released}"
		exit 0
	fi
	if ! grep -qF "${locked_msg}" "${out}"; then
		fail "pulumi up failed (not a state lock; not retried): the cause is in the up log above; once it is fixed, re-run this job (a lock the failure left is deleted by the next run when provably stale)"
	fi
	mapfile -t locks < <(steps state-locks --file "${out}" --max-age "${stale_s}")
	stale=() live=()
	for l in "${locks[@]}"; do
		IFS=$'\t' read -r kind url why <<<"${l}"
		if [[ "${kind}" == stale ]]; then stale+=("${url}"); else live+=("${url} (${why})"); fi
		log "lock ${kind}: ${url}: ${why}"
	done
	if ((${#stale[@]} > 0 && ${#live[@]} == 0 && attempt < attempts)); then
		for url in "${stale[@]}"; do remove_lock "${url}"; done
		log "deleted the stale lock(s); trying again now"
		continue
	fi
	if ((attempt >= attempts)); then
		fail "the stack is still locked after ${attempts} attempts by ${live[*]:-an unlisted lock}; if no release (or other pulumi up of ${stack}) is running, run: ${cancel_cmd}"
	fi
	# A little jitter, so two runs that collided do not keep colliding in step.
	pause=$((wait_s + RANDOM % (wait_s / 5 + 1)))
	log "the stack is locked by another update (another release?); waiting ${pause}s"
	sleep "${pause}"
done
