#!/usr/bin/env bash
# Tag history, model-checked (docs/rehearsal.md, "Tag history"): a generated sequence of releases
# (test/history/model.ts: new patches, minors and majors, a patch on an older line after a newer
# one, pre-releases, re-runs of old tags, tags released out of order, a version re-tagged on
# another commit) runs through the real release steps (scripts/release/up.sh with the local stack,
# as `npm run rehearse:release` does), and after every step the registry must equal the reference
# model: `latest` and `vX.Y` never move backwards or to a pre-release, exact tags never move and
# are never deleted, every tag's index has every platform; a re-tag is refused before pushing.
#   npm run test:history                 (seed from the clock, printed)
#   HISTORY_SEED=123 HISTORY_LENGTH=25 npm run test:history     (reproduce a run)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "${ROOT}"
if [[ -z "${CQ_REPO_COPY:-}" ]]; then exec bash scripts/with-services.sh --toolchain local bash "$0" "$@"; fi

SEED="${HISTORY_SEED:-$(date +%s)}"
LENGTH="${HISTORY_LENGTH:-25}"
t0=${SECONDS}
log() { printf '[history seed=%s] %s\n' "${SEED}" "$*" >&2; }
die() {
	log "FAIL: $*"
	log "reproduce with: HISTORY_SEED=${SEED} HISTORY_LENGTH=${LENGTH} npm run test:history"
	exit 1
}
tsnode() { "${ROOT}/node_modules/.bin/ts-node" --transpile-only "$@"; }

repo="${CQ_REPO_COPY}"
work="${CQ_SESSION_DIR}"
cd "${repo}"
[[ -d policy/node_modules ]] || die "policy/node_modules is missing: run npm run deps:policy first"

plan="${work}/history.plan"
tsnode test/history/check.ts plan --seed "${SEED}" --length "${LENGTH}" >"${plan}"
log "$(wc -l <"${plan}") releases; seed ${SEED}"

# --- the repository and the local stack, as rehearse-release.sh sets them up ---------------------
git init -q -b main .
printf 'node_modules\n' >.git/info/exclude
git config user.name "History" && git config user.email "history@example.invalid"
GIT_AUTHOR_DATE=2025-01-01T00:00:00Z GIT_COMMITTER_DATE=2025-01-01T00:00:00Z git commit -q --allow-empty -m base
git init -q --bare "${work}/origin.git"
git remote add origin "${work}/origin.git"
git push -q origin main

export GITHUB_REPOSITORY="cloudquery-example/cq-source-s3" GITHUB_SERVER_URL="https://github.com" GITHUB_REF_TYPE=tag
export RUNNER_TEMP="${work}/runner-temp"
export PULUMI_STACK=local PULUMI_BACKEND_URL="file://${repo}/.pulumi-local"
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE:-local-only}"
export GHCR_USERNAME=history GHCR_TOKEN=history-unused-token
export PULUMI_UP_COMMAND="${ROOT}/node_modules/.bin/ts-node --transpile-only scripts/release/local-up.ts"
export UP_LOCK_ATTEMPTS=2 UP_LOCK_WAIT_SECONDS=2
export PATH="${repo}/policy/test/engine:${PATH}"
image="${CQ_REGISTRY}/cq-source-s3-release-history"
# An empty repository: the exact-tag guard would refuse a version an earlier history pushed from
# another commit, which the model (starting empty) expects to be released.
# shellcheck source=scripts/lib/registry.sh
source "${ROOT}/scripts/lib/registry.sh"
registry_reset "${image#*/}" || die "could not empty ${image}"
mkdir -p "${RUNNER_TEMP}" "${repo}/.pulumi-local"
pulumi stack init local --non-interactive >/dev/null
pulumi config set --stack local imageName "${image##*/}"
pulumi config set --stack local builderImage "$(sed -n 's/^BUILDER_IMAGE=//p' "${CQ_DATA_DIR}/base-images.env")"
pulumi config set --stack local runtimeImage "$(sed -n 's/^RUNTIME_IMAGE=//p' "${CQ_DATA_DIR}/base-images.env")"

# --- the releases ------------------------------------------------------------------------------
declare -A sha_of
steps="${work}/history.steps"
ledger="${work}/history.ledger.json"
: >"${steps}"
n=0
while read -r version model_commit refused kind; do
	n=$((n + 1))
	if [[ -z "${sha_of[${model_commit}]:-}" ]]; then
		# One empty commit per model commit, at increasing times (the commit time is an image label).
		when="2025-02-01T00:00:00Z"
		when="$(date -u -d "${when} + ${n} hours" +%FT%TZ)"
		GIT_AUTHOR_DATE="${when}" GIT_COMMITTER_DATE="${when}" git commit -q --allow-empty -m "${model_commit}"
		sha_of[${model_commit}]="$(git rev-parse HEAD)"
	fi
	sha="${sha_of[${model_commit}]}"
	# A re-run keeps its tag; a new release or a re-tag (forced, as a maintainer would) points it here.
	if [[ "$(git rev-parse -q --verify "refs/tags/${version}^{commit}" || true)" != "${sha}" ]]; then
		git tag -f -a "${version}" -m "${version}" "${sha}" >/dev/null
		git push -q -f origin "refs/tags/${version}"
	fi
	printf '%s %s %s\n' "${version}" "${model_commit}" "${sha}" >>"${steps}"
	log "step ${n}: ${version} at ${sha:0:7} (${kind})"
	export GITHUB_SHA="${sha}" GITHUB_REF="refs/tags/${version}" GITHUB_REF_NAME="${version}"
	out="${work}/step-${n}.log"
	s0=${SECONDS}
	if GITHUB_OUTPUT="${work}/step-${n}.out" bash scripts/release/up.sh >"${out}" 2>&1; then
		[[ "${refused}" == 0 ]] || die "step ${n}: ${version} re-tagged on another commit was released: $(tail -n3 "${out}")"
	else
		[[ "${refused}" == 1 ]] || die "step ${n}: ${version} failed: $(tail -n5 "${out}")"
		grep -q "exact tags are immutable" "${out}" || die "step ${n}: refused without naming the exact tag: $(tail -n3 "${out}")"
		log "ok: step ${n}: refused before pushing: $(grep -m1 -o "exact tags are immutable: [^.]*" "${out}")"
	fi
	run_digest=()
	if [[ "${refused}" == 0 ]]; then
		# The release's tags must be the digest this run reported, not only the model's.
		d="$(jq -r --arg v "${version}" 'select(.version == $v) | .imageDigest' "${RUNNER_TEMP}/outputs.json")"
		[[ "${d}" == sha256:* ]] || die "step ${n}: no imageDigest of ${version} in ${RUNNER_TEMP}/outputs.json"
		run_digest=(--digest "${version}=${d}")
	fi
	tsnode test/history/check.ts check --steps "${steps}" --repository "${image#*/}" --ledger "${ledger}" "${run_digest[@]}" ||
		die "step ${n}: the registry differs from the model (above)"
	log "ok: step ${n}: registry = model ($((SECONDS - s0)) s)"
done <"${plan}"
log "passed: ${n} releases in $((SECONDS - t0)) s"
