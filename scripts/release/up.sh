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
# Reads what metadata.sh, configure.sh and exact-tags.sh read, and:
#   UP_LOCK_ATTEMPTS (60), UP_LOCK_WAIT_SECONDS (30)  the bound: 60 × 30 s = 30 min of waiting
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
for ((attempt = 1; ; attempt++)); do
	fetch_tags
	: >"${meta}"
	GITHUB_OUTPUT="${meta}" bash scripts/release/metadata.sh
	released="$(sed -n 's/^released-versions=//p' "${meta}")"
	commit_time="$(sed -n 's/^commit-time=//p' "${meta}")"
	RELEASED_VERSIONS="${released}" COMMIT_TIME="${commit_time}" bash scripts/release/configure.sh
	bash scripts/release/exact-tags.sh

	log "attempt ${attempt}/${attempts}: ${up_cmd[*]} (targets: ${targets[*]})"
	if "${up_cmd[@]}" "${args[@]}" 2>&1 | tee "${out}"; then
		# Read at once: another tag's run may take the lock now and replace the stack outputs.
		pulumi stack output --stack "${stack}" --json >"${RUNNER_TEMP}/outputs.json"
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
		fail "pulumi up failed (not a state lock; not retried)"
	fi
	if ((attempt >= attempts)); then
		fail "the stack is still locked after ${attempts} attempts; if no other release is running, the lock is stale (an interrupted run): see docs/release.md, 'The state lock'"
	fi
	# A little jitter, so two runs that collided do not keep colliding in step.
	pause=$((wait_s + RANDOM % (wait_s / 5 + 1)))
	log "the stack is locked by another update (another release?); waiting ${pause}s"
	sleep "${pause}"
done
