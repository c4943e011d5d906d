#!/usr/bin/env bash
# Release rehearsal (docs/rehearsal.md, "Release rehearsal"): runs the release workflow's steps —
# the very scripts release.yml calls, in its order, with the runner's variable names — against the
# local stack, in one rehearsal session (scripts/with-services.sh: toolchain, services, base
# images, a temporary copy of the tree in $CQ_REPO_COPY, a scratch dir in $CQ_SESSION_DIR).
#   bash scripts/rehearse-release.sh [vX.Y.Z]      (npm run rehearse:release -- v1.2.3)
#
#   git       a repository in the copy with tags v1.1.0, v1.2.0, v1.2.3-rc.1 and the tag under test
#             (HEAD), pushed to a bare `origin`; GITHUB_* as a tag push sets them
#   metadata  metadata.sh: releasedVersions and commit time asserted; refused: a non-semver tag, a
#             tag not at GITHUB_SHA; a later older-line tag (v1.1.1) gets no `latest`
#   up        up.sh: before each attempt fetch tags, metadata.sh, configure.sh (`pulumi config set`
#             on the local stack, PULUMI_STACK=local); `pulumi up` is PULUMI_UP_COMMAND=
#             scripts/release/local-up.ts (Automation API: no Node.js language host here), with
#             the --target values and the policy pack. First: a failure that is not the lock is
#             not retried; a lock that never goes away is retried a bounded number of times.
#             Then attempt 1 meets the real state lock of "another release", which pushes a newer
#             tag meanwhile; attempt 2 must fetch it, recompute the config and so not take `latest`.
#   outputs   outputs.sh: outputs checked; the registry serves every expected tag at the digest
#   sign      sign.sh in key mode (a key pair made for this run only, in $CQ_SESSION_DIR);
#             verification with another key must fail
#   evidence  evidence.sh provenance, then `npm run verify` must fail for the missing SBOM;
#             evidence.sh sbom, then verify passes; and fails, each with its own status, for an
#             unsigned digest, a digest signed by another key, another commit, another
#             repository id; evidence.sh assets takes the Release assets from the registry
#   visibility visibility.sh check: an anonymous manifest GET by digest of the published ref, which
#             the (anonymous) rehearsal registry must serve; `enforce` after the Release passes
#   notes     notes.sh + github-release.sh with a stand-in `gh` (GitHub is not reachable): the
#             body names the digest and the verify command; the Release is created with the
#             evidence as assets (refused without them), not "Latest", not a pre-release
#   hub       hub-publish.sh with the real CLI against a stand-in Hub API on 127.0.0.1: refused
#             without a key, before the plugin exists, with a key the Hub refuses (each with its
#             one action); then published (the CLI's requests checked in order); a re-run is a
#             no-op; another build of the same version is refused before anything is sent
#   referrers sign.sh and evidence.sh once more in a registry that serves the OCI referrers API
#             (as Artifact Registry does; here the registry has none, as GHCR): the evidence is
#             6 referrer manifests and no tag there, a `sha256-<digest>` tag here; verify passes
#   cleanup   gcr.io's cleanup policy applied to the registry as Artifact Registry would (every
#             version 15 days old): nothing deleted, the release verifies; at the end, a rule
#             deleting untagged versions deletes the evidence and verify fails (status 10)
#   exact     the exact-tag guard (exact-tags.sh inside up.sh): a re-run of the tag re-tags without
#             building and every tag of the repository keeps its digest, with the state intact and
#             again from an empty state (the indexes re-created from the same sources must be
#             byte-identical); the tag moved to another commit is refused before `pulumi up`, with
#             the message, and a wrong override changes nothing
#   rollback  (stable tags only) the next patch is released (built, takes latest); ROLLBACK_TO=<tag>
#             and a re-run of the tag put latest and vX.Y back on its original index digest, with no
#             build, and `npm run verify` of latest passes on the original signature and evidence;
#             the next release's re-run without ROLLBACK_TO moves them forward again
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${ROOT}"

if [[ -z "${CQ_REPO_COPY:-}" ]]; then exec bash scripts/with-services.sh --toolchain release bash "$0" "$@"; fi

TAG="${1:-v1.2.3}"
t0=${SECONDS}
log() { printf '[rehearse-release] %s\n' "$*" >&2; }
die() {
	log "FAIL: $*"
	# REHEARSAL_LOG_DIR: where to keep the failed run's logs (the session is removed at exit).
	if [[ -n "${REHEARSAL_LOG_DIR:-}" && -n "${work:-}" ]]; then
		mkdir -p "${REHEARSAL_LOG_DIR}"
		cp "${work}"/*.log "${REHEARSAL_LOG_DIR}/" 2>/dev/null || true
		log "logs kept in ${REHEARSAL_LOG_DIR}"
	fi
	exit 1
}
# expect WHAT GOT WANT
expect() {
	if [[ "$2" != "$3" ]]; then die "$1: got ${2@Q}, want ${3@Q}"; fi
	log "ok: $1 = $2"
}
# output FILE KEY: a value from a $GITHUB_OUTPUT file (single-line form).
output() { sed -n "s/^$2=//p" "$1" | tail -n1; }
tsnode() { "${ROOT}/node_modules/.bin/ts-node" --transpile-only "$@"; }
# shellcheck source=scripts/lib/registry.sh
source "${ROOT}/scripts/lib/registry.sh"
# tag_digest TAG: the digest the registry serves for ${image}:TAG; snapshot_image: every tag's.
tag_digest() { registry_digest "${image#*/}" "$1"; }
snapshot_image() { registry_snapshot "${image#*/}"; }
# derive_tags VERSION COMMIT RELEASED_JSON: the tags lib/release.ts derives, as JSON. Computed by
# the code under test on purpose (the rehearsal checks the scripts around it); the independent
# oracle of the tag rule is the history rehearsal's model (test/history/model.ts, written from
# docs/configuration.md) and the e2e's literal tags.
derive_tags() {
	tsnode -e 'import { deriveTags } from "./lib/release";
const [version, commit, released] = process.argv.slice(1);
console.log(JSON.stringify(deriveTags({ version, commit, releasedVersions: JSON.parse(released) })));' "$@"
}

# The checkout's tracked stack file must come out untouched (everything happens in the copy).
checkout_stack_file="$(sha256sum "${ROOT}/Pulumi.local.yaml")"
repo="${CQ_REPO_COPY}"
work="${CQ_SESSION_DIR}"
cd "${repo}"
[[ -d policy/node_modules ]] || die "policy/node_modules is missing: run npm run deps:policy first"

# --- the repository: tags as a maintainer would have pushed them ------------------------------
git init -q -b main .
printf 'node_modules\n' >.git/info/exclude
git config user.name "Rehearsal" && git config user.email "rehearsal@example.invalid"
# commit DATE MESSAGE: an empty commit at a fixed time (commit time is part of the image labels).
commit() { GIT_AUTHOR_DATE="$1" GIT_COMMITTER_DATE="$1" git commit -q --allow-empty -m "$2"; }
released=()
for t in v1.1.0 v1.2.0 v1.2.3-rc.1; do
	[[ "${t}" == "${TAG}" ]] && continue
	commit "2025-0$((${#released[@]} + 1))-10T08:00:00+00:00" "release ${t}"
	git tag "${t}"
	released+=("${t}")
done
COMMIT_DATE="2025-04-10T12:34:56+00:00"
commit "${COMMIT_DATE}" "release ${TAG}"
git tag -a "${TAG}" -m "${TAG}"
git init -q --bare "${work}/origin.git"
git remote add origin "${work}/origin.git"
git push -q origin main --tags

export GITHUB_SHA GITHUB_REF="refs/tags/${TAG}" GITHUB_REF_NAME="${TAG}" GITHUB_REF_TYPE=tag
GITHUB_SHA="$(git rev-parse HEAD)"
export GITHUB_REPOSITORY="cloudquery-example/cq-source-s3" GITHUB_SERVER_URL="https://github.com"
# What a tag push's run sets besides (provenance records them).
export GITHUB_REPOSITORY_ID=700000001 GITHUB_REPOSITORY_OWNER_ID=700000000 GITHUB_RUN_ID=42 GITHUB_RUN_ATTEMPT=1
export GITHUB_EVENT_NAME=push RUNNER_ENVIRONMENT=self-hosted
# The workflows read toolchain/versions.env through this script's outputs; here the BuildKit built
# from BUILDKIT_VERSION's module builds the image (the workflow names its BUILDKIT_IMAGE).
BUILDKIT_VERSION="$(bash "${ROOT}/scripts/release/tool-versions.sh" | sed -n 's/^BUILDKIT_VERSION=//p')"
export BUILDKIT_VERSION
export RUNNER_TEMP="${work}/runner-temp"
mkdir -p "${RUNNER_TEMP}"
# The local stack in the copy's own file backend; its documented local-only passphrase.
export PULUMI_STACK=local PULUMI_BACKEND_URL="file://${repo}/.pulumi-local"
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE:-local-only}"
image="${CQ_REGISTRY}/cq-source-s3-release-rehearsal"
# The repository starts without releases (its build cache stays): the commits here are the same
# every run, so the exact-tag guard would otherwise find the last rehearsal's release of this very
# commit and re-tag it instead of building.
registry_reset "${image#*/}" || die "could not empty ${image}"
# configure.sh sets the ghcr identity for every stack; the local stack pushes to localRegistry only
# (its registryLogins output is empty, so nothing logs in; the policy allows that registry alone).
export GHCR_USERNAME=rehearsal GHCR_TOKEN=rehearsal-unused-token
# The policy pack's analyzer launcher (no Node.js language host here; see policy/test/engine).
export PATH="${repo}/policy/test/engine:${PATH}"

# "Bootstrap" by the platform team: the stack exists, with its image name.
mkdir -p "${repo}/.pulumi-local"
pulumi stack init local --non-interactive >/dev/null
pulumi config set --stack local imageName "${image##*/}"
# The base images pinned by digest, as the Dockerfile's defaults are (provenance names digests).
pulumi config set --stack local builderImage "$(sed -n 's/^BUILDER_IMAGE=//p' "${CQ_DATA_DIR}/base-images.env")"
pulumi config set --stack local runtimeImage "$(sed -n 's/^RUNTIME_IMAGE=//p' "${CQ_DATA_DIR}/base-images.env")"

# --- metadata ---------------------------------------------------------------------------------
log "step metadata (${TAG} at ${GITHUB_SHA})"
meta="${work}/github-output.metadata"
GITHUB_OUTPUT="${meta}" bash scripts/release/metadata.sh
want_released="$(printf '%s\n' "${released[@]}" | jq -Rnc '[inputs] | sort')"
expect "metadata version" "$(output "${meta}" version)" "${TAG}"
expect "metadata released-versions" "$(output "${meta}" released-versions)" "${want_released}"
expect "metadata commit-time" "$(output "${meta}" commit-time)" "${COMMIT_DATE}"
# refused WHAT WANT CMD...: CMD must fail with exit status 1 and an error naming the cause (WANT,
# a fixed string), so an unrelated failure (a missing tool, a crash) fails this check.
refused() {
	local what="$1" want="$2" rc=0
	shift 2
	"$@" >"${work}/refused.out" 2>&1 || rc=$?
	[[ "${rc}" == 1 ]] || die "${what}: exit ${rc}, want 1: $(tail -n5 "${work}/refused.out")"
	grep -qF -- "${want}" "${work}/refused.out" || die "${what}: the refusal does not say '${want}': $(tail -n5 "${work}/refused.out")"
	log "ok: ${what}: $(grep -m1 -F -- "${want}" "${work}/refused.out" | head -c 200)"
}
refused "metadata refuses the non-semver tag v1.2" 'tag "v1.2" is not a release tag vX.Y.Z[-pre] (strict semver)' \
	env GITHUB_REF=refs/tags/v1.2 GITHUB_REF_NAME=v1.2 GITHUB_OUTPUT=/dev/null bash scripts/release/metadata.sh
refused "metadata refuses a tag that does not point at GITHUB_SHA" "tag ${TAG} points at ${GITHUB_SHA}, not at GITHUB_SHA $(git rev-parse HEAD~1)" \
	env GITHUB_SHA="$(git rev-parse HEAD~1)" GITHUB_OUTPUT=/dev/null bash scripts/release/metadata.sh
# A later patch of an older line (v1.1.1 after the tag under test): its metadata lists what was
# released meanwhile, so it never takes `latest`.
commit "2025-05-01T00:00:00+00:00" "release v1.1.1"
git tag v1.1.1
older="${work}/github-output.metadata-older"
GITHUB_SHA="$(git rev-parse HEAD)" GITHUB_REF=refs/tags/v1.1.1 GITHUB_REF_NAME=v1.1.1 GITHUB_OUTPUT="${older}" \
	bash scripts/release/metadata.sh 2>/dev/null
jq -e --arg t "${TAG}" 'index($t) != null' <<<"$(output "${older}" released-versions)" >/dev/null ||
	die "metadata of v1.1.1 does not list ${TAG}"
older_tags="$(derive_tags v1.1.1 "$(git rev-parse HEAD)" "$(output "${older}" released-versions)")"
jq -e 'index("latest") == null' <<<"${older_tags}" >/dev/null || die "v1.1.1 after ${TAG} would take latest: ${older_tags}"
log "ok: a later v1.1.1 lists ${TAG} and gets ${older_tags} (no latest)"
git tag -d v1.1.1 >/dev/null
git reset -q --hard "${GITHUB_SHA}"

# --- up: another release holds the state lock, and pushes a newer tag meanwhile -------------------
major="${TAG#v}"
major="${major%%.*}"
newer="v$((major + 1)).0.0"
lockdir="${repo}/.pulumi-local/.pulumi/locks/organization/cq-source-s3-release/local"
cat >"${work}/up-other-release-first.sh" <<EOF
#!/usr/bin/env bash
# Stand-in for \`pulumi up\`: the first call finds the stack locked by another release, which
# finishes meanwhile having pushed ${newer}; later calls run normally.
set -euo pipefail
if [[ ! -e "${work}/attempt-1.log" ]]; then
	mkdir -p "${lockdir}"
	printf '{"pid":1,"username":"other-release","hostname":"runner","timestamp":"%s"}' "\$(date -u +%FT%TZ)" \\
		>"${lockdir}/other-release.json"
	rc=0
	"${ROOT}/node_modules/.bin/ts-node" --transpile-only scripts/release/local-up.ts "\$@" >"${work}/attempt-1.log" 2>&1 || rc=\$?
	cat "${work}/attempt-1.log"
	git -C "${work}/origin.git" tag "${newer}" "${GITHUB_SHA}"
	rm -f "${lockdir}/other-release.json"
	exit "\${rc}"
fi
exec "${ROOT}/node_modules/.bin/ts-node" --transpile-only scripts/release/local-up.ts "\$@"
EOF
log "step up: the retry policy (a stand-in that always fails)"
cat >"${work}/up-fails.sh" <<EOF
#!/usr/bin/env bash
# Stand-in for \`pulumi up\` that always fails, with the state-lock message when FAKE_UP_LOCKED=1.
echo call >>"${work}/up-fails.calls"
if [[ "\${FAKE_UP_LOCKED:-}" == 1 ]]; then
	echo "error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or delete the lock file with pulumi cancel."
else
	echo "error: something else broke"
fi
exit 255
EOF
for case in other:3:1 locked:2:2; do
	IFS=: read -r kind max want <<<"${case}"
	: >"${work}/up-fails.calls"
	locked=0
	if [[ "${kind}" == locked ]]; then locked=1; fi
	if FAKE_UP_LOCKED="${locked}" PULUMI_UP_COMMAND="bash ${work}/up-fails.sh" UP_LOCK_ATTEMPTS="${max}" \
		UP_LOCK_WAIT_SECONDS=1 GITHUB_OUTPUT=/dev/null bash scripts/release/up.sh >"${work}/up-fails.log" 2>&1; then
		die "up.sh succeeded with a failing pulumi up"
	fi
	expect "pulumi up calls, failure '${kind}', UP_LOCK_ATTEMPTS=${max}" "$(wc -l <"${work}/up-fails.calls")" "${want}"
done

log "step up"
up_out="${work}/github-output.up"
PULUMI_UP_COMMAND="bash ${work}/up-other-release-first.sh" UP_LOCK_ATTEMPTS=3 UP_LOCK_WAIT_SECONDS=2 \
	GITHUB_OUTPUT="${up_out}" bash scripts/release/up.sh
grep -qF "the stack is currently locked" "${work}/attempt-1.log" ||
	die "attempt 1 did not meet the state lock: $(tail -n5 "${work}/attempt-1.log")"
log "ok: attempt 1 met the real state lock and was retried"
final_released="$(output "${up_out}" released-versions)"
expect "released-versions used by up" "${final_released}" "$(jq -c --arg n "${newer}" '. + [$n] | sort' <<<"${want_released}")"
# What configure.sh (run by up.sh before each attempt) left in the stack config and the policy config.
expect "config version" "$(pulumi config get --stack local version)" "${TAG}"
expect "config commit" "$(pulumi config get --stack local commit)" "${GITHUB_SHA}"
expect "config commitTime" "$(pulumi config get --stack local commitTime)" "${COMMIT_DATE}"
expect "config releasedVersions" "$(pulumi config get --stack local releasedVersions)" "${final_released}"
expect "policy allowedRegistries" "$(jq -c '.["images-push-to-allowed-registries"].allowedRegistries' "${RUNNER_TEMP}/policy-config.json")" "[\"${CQ_REGISTRY}/\"]"

# The targeted update created the whole image: the component, one Image per platform, one Index
# per tag (the targets' glob reaches children that did not exist yet).
expect "resources in the state" "$(pulumi stack export --stack local | jq -c '[.deployment.resources[].type
	| select(startswith("pulumi:") | not)] | group_by(.) | map({(.[0]): length}) | add')" \
	"$(jq -c '{"cq-release:image:PluginImage": 1, "docker-build:index:Image": 2, "docker-build:index:Index": length}' <<<"$(derive_tags "${TAG}" "${GITHUB_SHA}" "${final_released}")")"

# --- outputs ----------------------------------------------------------------------------------
log "step outputs"
out="${work}/github-output.outputs"
GITHUB_OUTPUT="${out}" bash scripts/release/outputs.sh
digest="$(output "${out}" digest)"
refs="$(output "${out}" refs)"
expect "refs" "${refs}" "${image}@${digest}"
want_tags="$(derive_tags "${TAG}" "${GITHUB_SHA}" "${final_released}")"
expect "imageTags" "$(jq -c .imageTags "${RUNNER_TEMP}/outputs.json")" "${want_tags}"
jq -e 'index("latest") == null' <<<"${want_tags}" >/dev/null || die "a release older than ${newer} would take latest"
for t in $(jq -r '.[]' <<<"${want_tags}"); do
	got="$(curl -fsS --cacert "${CQ_REGISTRY_CA}" -o /dev/null -w '%header{docker-content-digest}' \
		-H 'Accept: application/vnd.oci.image.index.v1+json' \
		-H 'Accept: application/vnd.docker.distribution.manifest.list.v2+json' \
		"https://${CQ_REGISTRY}/v2/${image#*/}/manifests/${t}")"
	expect "registry ${image#*/}:${t}" "${got}" "${digest}"
done

# --- sign (key mode: a key pair for this run only; keyless is the workflow's) ------------------
log "step sign"
keys="${work}/cosign"
mkdir -p "${keys}/other"
COSIGN_PASSWORD="$(openssl rand -hex 16)"
export COSIGN_PASSWORD
(cd "${keys}" && cosign generate-key-pair >/dev/null 2>&1)
(cd "${keys}/other" && cosign generate-key-pair >/dev/null 2>&1)
IMAGE_REFS="${refs}" COSIGN_KEY="${keys}/cosign.key" COSIGN_PUBLIC_KEY="${keys}/cosign.pub" \
	GHCR_TOKEN="" bash scripts/release/sign.sh
if cosign verify --key "${keys}/other/cosign.pub" --insecure-ignore-tlog=true "${refs}" >/dev/null 2>&1; then
	die "a signature verified with a key that did not make it"
fi
log "ok: verification with another key fails"

# --- evidence: provenance, SBOMs, and what npm run verify refuses -----------------------------
export COSIGN_KEY="${keys}/cosign.key" COSIGN_PUBLIC_KEY="${keys}/cosign.pub"
# verify_status WANT WHAT REF [ARGS...]: `npm run verify` (with this run's public key) exits WANT.
verify_status() {
	local want="$1" what="$2" rc=0
	shift 2
	tsnode scripts/verify.ts --key "${keys}/cosign.pub" --repository "${GITHUB_REPOSITORY}" "$@" \
		>"${work}/verify.out" 2>&1 || rc=$?
	sed 's/^/[rehearse-release]   /' "${work}/verify.out" >&2
	expect "verify: ${what}: exit status" "${rc}" "${want}"
}
pinned=(--repository-id "${GITHUB_REPOSITORY_ID}" --commit "${GITHUB_SHA}")
evidence_times=()
# evidence STEP: evidence.sh STEP, timed.
evidence() {
	local t=${SECONDS}
	IMAGE_REFS="${refs}" GHCR_TOKEN="" bash scripts/release/evidence.sh "$1"
	evidence_times+=("$1=$((SECONDS - t))")
}
log "step evidence: provenance"
evidence provenance
verify_status 14 "signed, with provenance, no SBOM yet" "${refs}" "${pinned[@]}"
grep -qF "verify: sbom: " "${work}/verify.out" || die "verify did not name the missing SBOM"
log "step evidence: sbom"
evidence sbom
t=${SECONDS}
verify_status 0 "the release" "${refs}" "${pinned[@]}"
evidence_times+=("verify=$((SECONDS - t))")
amd64="$(jq -r '.platformDigests["linux/amd64"]' "${RUNNER_TEMP}/outputs.json")"
arm64="$(jq -r '.platformDigests["linux/arm64"]' "${RUNNER_TEMP}/outputs.json")"
verify_status 10 "an unsigned digest (the arm64 manifest)" "${image}@${arm64}" "${pinned[@]}"
cosign signing-config create --out "${keys}/other/signing-config.json"
cosign sign --yes --key "${keys}/other/cosign.key" --signing-config "${keys}/other/signing-config.json" \
	"${image}@${amd64}" >/dev/null 2>&1
verify_status 10 "a digest signed by another key (the amd64 manifest)" "${image}@${amd64}" "${pinned[@]}"
verify_status 13 "provenance naming another commit" "${refs}" --commit "$(printf 'f%.0s' {1..40})"
verify_status 12 "another repository id" "${refs}" --repository-id 1 --commit "${GITHUB_SHA}"
verify_status 12 "another repository" "${refs}" --repository "${GITHUB_REPOSITORY}-fork"
verify_status 2 "a tag instead of a digest" "${image}:${TAG}"
printf '%s\n' "${evidence_times[@]}" >"${work}/evidence-times"
log "ok: evidence steps (seconds): ${evidence_times[*]}"

# --- both storage paths of cosign v3: the tag fallback (above), and the referrers API ------------
# The rehearsal registry, like GHCR, has no referrers API: cosign tags an index `sha256-<digest>`
# listing the evidence. Artifact Registry serves the API: cosign stores referrer manifests and no
# tag. So the release is signed, attested and verified once more in a registry that serves it
# (test/e2e/sync/cmd/ocireg: go-containerregistry's, TLS with the rehearsal's certificate).
log "step referrers: sign, attest and verify where the registry serves the referrers API"
expect "tag fallback: the index listing the release's evidence" \
	"$(registry_tags "${image#*/}" | grep -cxF "sha256-${digest#sha256:}")" 1
(cd test/e2e/sync && GOFLAGS="-mod=readonly -buildvcs=false" go build -o "${work}/bin/ocireg" ./cmd/ocireg)
rm -f "${work}/ocireg.addr"
"${work}/bin/ocireg" -cert "${CQ_TOOLCHAIN_DIR}/etc/tls/registry.crt" -key "${CQ_TOOLCHAIN_DIR}/etc/tls/registry.key" \
	-addr-file "${work}/ocireg.addr" -copy "${refs}" -to rehearsal-referrers >"${work}/ocireg.log" 2>&1 &
ocireg_pid=$!
trap 'kill "${ocireg_pid}" 2>/dev/null || true; hub_stop 2>/dev/null || true' EXIT
for _ in $(seq 1 300); do
	[[ -s "${work}/ocireg.addr" ]] && break
	kill -0 "${ocireg_pid}" 2>/dev/null || die "ocireg stopped: $(tail -n 5 "${work}/ocireg.log")"
	sleep 0.1
done
[[ -s "${work}/ocireg.addr" ]] || die "ocireg did not start in 30 s: $(tail -n 5 "${work}/ocireg.log")"
ocireg="$(cat "${work}/ocireg.addr")"
rr="${ocireg}/rehearsal-referrers@${digest}"
IMAGE_REFS="${rr}" GHCR_TOKEN="" bash scripts/release/sign.sh
IMAGE_REFS="${rr}" GHCR_TOKEN="" bash scripts/release/evidence.sh provenance
IMAGE_REFS="${rr}" GHCR_TOKEN="" bash scripts/release/evidence.sh sbom
referrers="$(curl -fsS --cacert "${CQ_REGISTRY_CA}" "https://${ocireg}/v2/rehearsal-referrers/referrers/${digest}")" ||
	die "no referrers API answer from ${ocireg}"
expect "referrers API: evidence of ${digest} (signature, provenance, SPDX and CycloneDX per platform)" \
	"$(jq '.manifests | length' <<<"${referrers}")" 6
expect "referrers API: tags in that repository (cosign made none)" \
	"$(curl -fsS --cacert "${CQ_REGISTRY_CA}" "https://${ocireg}/v2/rehearsal-referrers/tags/list" | jq -c '.tags // []')" "[]"
verify_status 0 "the release in a registry with the referrers API" "${rr}" "${pinned[@]}"
kill "${ocireg_pid}" 2>/dev/null || true
wait "${ocireg_pid}" 2>/dev/null || true
log "ok: both storage paths: tag fallback here, referrers API at ${ocireg}"

# --- cleanup: gcr.io's cleanup policy, as an Artifact Registry run would apply it ---------------
# Ages simulated: every version 15 days old (the evidence is minutes old here). The policy must
# delete no evidence: the release verifies afterwards. At the end, a policy that deletes untagged
# versions (the program's until issue 20) is applied too, and verify must then fail.
log "step cleanup"
# cleanup_apply [--policies FILE]: deletes what the policy would delete; prints how many.
cleanup_apply() {
	local d n=0
	while IFS= read -r d; do
		curl -fsS --cacert "${CQ_REGISTRY_CA}" -X DELETE "https://${CQ_REGISTRY}/v2/${image#*/}/manifests/${d}" >/dev/null ||
			die "cleanup: cannot delete ${d}"
		n=$((n + 1))
	done < <(tsnode scripts/cleanup-simulate.ts --repo "${image#*/}" --age-days 15 "$@" 2>>"${work}/cleanup.log" ||
		die "cleanup-simulate failed: $(tail -n 3 "${work}/cleanup.log")")
	echo "${n}"
}
expect "cleanup: versions the program's policy deletes (15 days on)" "$(cleanup_apply)" 0
verify_status 0 "the release after the cleanup policy (15 days on)" "${refs}" "${pinned[@]}"
log "ok: $(tail -n 1 "${work}/cleanup.log")"

# --- visibility: an anonymous pull of every published ref (the rehearsal registry is anonymous) ---
log "step visibility"
STACK_OUTPUTS="$(cat "${RUNNER_TEMP}/outputs.json")" bash scripts/release/visibility.sh check
expect "anonymous pull findings" "$(jq -c 'map({key, pull, severity})' "${RUNNER_TEMP}/visibility.json")" \
	'[{"key":"local","pull":"works","severity":"ok"}]'

# --- every other door: the dist target on the same BuildKit, with the image's build args ------
log "step dist"
t=${SECONDS}
bash scripts/release/dist.sh
dist_s=$((SECONDS - t))
expect "dist: GitHub Release zips" "$(cd "${RUNNER_TEMP}/dist/github" && ls)" "$(printf '%s\n' checksums.txt \
	cq-source-s3_darwin_amd64.zip cq-source-s3_darwin_arm64.zip cq-source-s3_linux_amd64.zip cq-source-s3_linux_arm64.zip cq-source-s3_windows_amd64.zip)"
expect "dist: Hub package version" "$(jq -r '[.name, .team, .kind, .version] | join(" ")' "${RUNNER_TEMP}/dist/hub/package.json")" "s3 infobloxopen source ${TAG}"
log "ok: dist in ${dist_s} s"

# --- the files' evidence: SBOM per binary, provenance about every file, signed checksums.txt ----
log "step dist evidence"
t=${SECONDS}
IMAGE_REFS="${refs}" GHCR_TOKEN="" bash scripts/release/dist-evidence.sh
dist_evidence_s=$((SECONDS - t))
gz="${RUNNER_TEMP}/dist/github"
# verify_refused WANT WHAT TEXT ARGS...: `npm run verify` exits WANT and its error says TEXT.
verify_refused() {
	local text="$3"
	verify_status "$1" "$2" "${@:4}"
	grep -qF -- "${text}" "${work}/verify.out" || die "verify: $2: the refusal does not say '${text}'"
}
verify_status 0 "the linux/amd64 zip" "${gz}/cq-source-s3_linux_amd64.zip" "${pinned[@]}"
verify_status 0 "the windows/amd64 zip" "${gz}/cq-source-s3_windows_amd64.zip" "${pinned[@]}"
verify_status 0 "checksums.txt" "${gz}/checksums.txt" "${pinned[@]}"
t=${SECONDS}
verify_status 0 "the Hub package folder" "${RUNNER_TEMP}/dist/hub" --evidence "${gz}" "${pinned[@]}"
verify_hub_s=$((SECONDS - t))
grep -qF "package.json: signed" "${work}/verify.out" || die "verify of the Hub folder did not check package.json"
bad="${work}/dist-bad"
rm -rf "${bad}" && cp -r "${gz}" "${bad}"
printf 'x' >>"${bad}/cq-source-s3_linux_amd64.zip"
verify_refused 10 "a tampered zip" "not the released bytes" "${bad}/cq-source-s3_linux_amd64.zip" "${pinned[@]}"
cp "${gz}/cq-source-s3_linux_amd64.zip" "${bad}/"
printf 'x' >>"${bad}/stray.bin"
verify_refused 10 "a file of no release" "no signed statement covers stray.bin" "${bad}/stray.bin" "${pinned[@]}"
verify_refused 13 "a zip, another commit" "provenance names commit ${GITHUB_SHA}, expected ffff" \
	"${bad}/cq-source-s3_linux_amd64.zip" --commit "$(printf 'f%.0s' {1..40})"
verify_refused 12 "a zip, another repository id" "provenance names repository id \"${GITHUB_REPOSITORY_ID}\", expected 1" \
	"${bad}/cq-source-s3_linux_amd64.zip" --repository-id 1 --commit "${GITHUB_SHA}"
verify_refused 12 "a zip, another repository" "expected a ref of git+https://github.com/${GITHUB_REPOSITORY}-fork" \
	"${bad}/cq-source-s3_linux_amd64.zip" --repository "${GITHUB_REPOSITORY}-fork"
rm "${bad}/cq-source-s3_linux_amd64.spdx.json"
verify_refused 14 "a zip without its SBOM" "no cq-source-s3_linux_amd64.spdx.json in ${bad}" \
	"${bad}/cq-source-s3_linux_amd64.zip" "${pinned[@]}"
cosign sign-blob --yes --key "${keys}/other/cosign.key" --signing-config "${keys}/other/signing-config.json" \
	--bundle "${bad}/checksums.txt.sigstore.json" "${bad}/checksums.txt" >/dev/null 2>&1
verify_refused 10 "checksums.txt signed by another key" "no valid signature of checksums.txt" \
	"${bad}/checksums.txt" "${pinned[@]}"
log "ok: the files' evidence in ${dist_evidence_s} s; verify of the Hub folder ${verify_hub_s} s"

# --- notes and the GitHub Release (a stand-in gh records what would be sent) -----------------
log "step notes"
mkdir -p "${work}/bin"
cat >"${work}/bin/gh" <<EOF
#!/usr/bin/env bash
# Stand-in for the GitHub CLI: records each call, answers generate-notes; knows no Release, unless
# GH_STANDIN_CHECKSUMS names the checksums.txt of an existing one.
printf '%s\n' "\$*" >>"${work}/gh.calls"
case "\$1 \${2:-}" in
"api --method") printf '## What%s Changed\n* rehearsal change\n' "'" ;;
"release view") [[ -n "\${GH_STANDIN_CHECKSUMS:-}" ]] ;;
"release download")
	while [[ \$# -gt 0 && "\$1" != --output ]]; do shift; done
	cp "\${GH_STANDIN_CHECKSUMS:?}" "\$2" ;;
"release create" | "release edit" | "release upload") ;;
*) exit 2 ;;
esac
EOF
chmod +x "${work}/bin/gh"
PATH="${work}/bin:${PATH}" STACK_OUTPUTS="$(cat "${RUNNER_TEMP}/outputs.json")" GH_TOKEN=unused \
	bash scripts/release/notes.sh
grep -qF "${digest}" "${RUNNER_TEMP}/body.md" || die "the Release body does not name ${digest}"
grep -qF "npm run verify -- ${refs} --repository-id ${GITHUB_REPOSITORY_ID} --commit ${GITHUB_SHA}" "${RUNNER_TEMP}/body.md" ||
	die "the Release body lacks the pinned verify command"
log "ok: the Release body names ${digest} and the pinned verify command"
if grep -qF "Who can pull" "${RUNNER_TEMP}/body.md"; then die "the Release body warns about a public registry"; fi
# Decided against the tags that exist now, which include ${newer}: not "Latest".
expect "Release flags" "$(jq -c '{prerelease, latest}' "${RUNNER_TEMP}/meta.json")" '{"prerelease":false,"latest":false}'
if PATH="${work}/bin:${PATH}" GH_REPO="${GITHUB_REPOSITORY}" GH_TOKEN=unused \
	bash scripts/release/github-release.sh 2>"${work}/no-evidence.log"; then
	die "github-release.sh created a Release without evidence"
fi
grep -qF "no Release without SBOMs and provenance" "${work}/no-evidence.log" || die "$(cat "${work}/no-evidence.log")"
log "ok: no evidence, no Release"
log "step assets"
evidence assets
gh_release() { PATH="${work}/bin:${PATH}" GH_REPO="${GITHUB_REPOSITORY}" GH_TOKEN=unused bash scripts/release/github-release.sh; }
mv "${RUNNER_TEMP}/dist" "${RUNNER_TEMP}/dist.away"
if gh_release 2>"${work}/no-zips.log"; then die "github-release.sh created a Release without its zips"; fi
grep -qF "no Release without its zips" "${work}/no-zips.log" || die "$(cat "${work}/no-zips.log")"
mv "${RUNNER_TEMP}/dist.away" "${RUNNER_TEMP}/dist"
log "ok: no zips, no Release"
mv "${RUNNER_TEMP}/dist/github/cq-source-s3_provenance.sigstore.json" "${work}/provenance.away"
if gh_release 2>"${work}/no-blob-evidence.log"; then die "github-release.sh created a Release without the zips' evidence"; fi
grep -qF "no Release without the zips' evidence" "${work}/no-blob-evidence.log" || die "$(cat "${work}/no-blob-evidence.log")"
mv "${work}/provenance.away" "${RUNNER_TEMP}/dist/github/cq-source-s3_provenance.sigstore.json"
log "ok: no evidence of the zips, no Release"
gh_release
bash scripts/release/visibility.sh enforce
a="${RUNNER_TEMP}/assets/${image##*/}-${TAG}"
z="${RUNNER_TEMP}/dist/github"
expect "gh release call" "$(grep '^release create' "${work}/gh.calls")" \
	"release create ${TAG} --verify-tag --title ${TAG} --notes-file ${RUNNER_TEMP}/body.md --prerelease=false --latest=false ${a}-linux-amd64.cdx.json ${a}-linux-amd64.spdx.json ${a}-linux-arm64.cdx.json ${a}-linux-arm64.spdx.json ${a}.provenance.json ${z}/cq-source-s3_darwin_amd64.zip ${z}/cq-source-s3_darwin_arm64.zip ${z}/cq-source-s3_linux_amd64.zip ${z}/cq-source-s3_linux_arm64.zip ${z}/cq-source-s3_windows_amd64.zip ${z}/checksums.txt ${z}/checksums.txt.sigstore.json ${z}/cq-source-s3_darwin_amd64.spdx.json ${z}/cq-source-s3_darwin_arm64.spdx.json ${z}/cq-source-s3_linux_amd64.spdx.json ${z}/cq-source-s3_linux_arm64.spdx.json ${z}/cq-source-s3_provenance.sigstore.json ${z}/cq-source-s3_windows_amd64.spdx.json"
# A re-run: the Release exists with these zips (same checksums.txt) → the same bytes again; with
# another build's zips → refused, nothing edited or uploaded.
GH_STANDIN_CHECKSUMS="${z}/checksums.txt" gh_release 2>"${work}/rerun-same.log" || die "re-run with equal zips: $(cat "${work}/rerun-same.log")"
grep -qF "its zips equal this run's" "${work}/rerun-same.log" || die "re-run with equal zips: $(cat "${work}/rerun-same.log")"
sed 's/^[0-9a-f]/0/' "${z}/checksums.txt" >"${work}/other-checksums.txt"
: >"${work}/gh.calls"
if GH_STANDIN_CHECKSUMS="${work}/other-checksums.txt" gh_release 2>"${work}/rerun-other.log"; then
	die "a re-run replaced the zips of another build"
fi
grep -qF "already has zips of another build" "${work}/rerun-other.log" || die "$(cat "${work}/rerun-other.log")"
expect "re-run with other zips: gh edit/upload calls" "$(grep -cE '^release (edit|upload|create)' "${work}/gh.calls" || true)" 0
log "ok: Release zips are immutable (equal: re-uploaded; other: refused)"
expect "provenance asset commit" "$(jq -r '.predicate.buildDefinition.resolvedDependencies[0].digest.gitCommit' "${a}.provenance.json")" "${GITHUB_SHA}"
expect "SPDX asset of arm64" "$(jq -r --arg d "${arm64}" 'tostring | contains($d)' "${a}-linux-arm64.spdx.json")" true

# --- the Hub: hub-publish.sh against a stand-in Hub API (the CLI publishes for real) ----------
# The stand-in (test/e2e/sync/internal/hubstandin) answers as the Hub does: a plugin must exist
# before a version, finalized versions are immutable, writes need the API key.
log "step hub"
# shellcheck source=scripts/lib/hub.sh
source "${ROOT}/scripts/lib/hub.sh"
trap 'kill "${ocireg_pid:-}" 2>/dev/null || true; hub_stop' EXIT
hub_publish() { bash scripts/release/hub-publish.sh; }
hub_start "${work}/hub-none" -api-key rehearsal-hub-key || die "the stand-in Hub did not start"
export CLOUDQUERY_API_URL="${HUB_URL}"
CLOUDQUERY_API_KEY="" refused "hub-publish.sh without an API key" "CLOUDQUERY_API_KEY is empty: set the stack's cloudqueryApiKey" hub_publish
CLOUDQUERY_API_KEY=rehearsal-hub-key refused "hub-publish.sh before the plugin exists on the Hub" \
	"the Hub has no plugin infobloxopen/source/s3 this key may publish (403): create it once at https://cloud.cloudquery.io" hub_publish
hub_stop
hub_start "${work}/hub" -api-key rehearsal-hub-key -plugin infobloxopen/source/s3 || die "the stand-in Hub did not start"
export CLOUDQUERY_API_URL="${HUB_URL}"
CLOUDQUERY_API_KEY=another-key refused "hub-publish.sh with a key the Hub refuses" "the Hub refused the API key (401)" hub_publish
expect "hub: writes accepted with a refused key" "$(hub_writes | grep -vc ' 401$' || true)" 0
export CLOUDQUERY_API_KEY=rehearsal-hub-key
hub_publish 2>"${work}/hub-publish.log" || die "hub-publish.sh: $(tail -n 20 "${work}/hub-publish.log")"
# What the CLI sent, in order: the draft, tables, docs, each target's upload URL and upload, finalize.
v="/plugins/infobloxopen/source/s3/versions/${TAG}"
want_writes="PUT ${v} 201
PUT ${v}/tables 201
POST ${v}/docs 201"
for target in $(jq -r '.supported_targets[] | "\(.os)_\(.arch)"' "${RUNNER_TEMP}/dist/hub/package.json"); do
	want_writes+=$'\n'"POST ${v}/assets/${target} 201"$'\n'"PUT /blobs/infobloxopen/source/s3/${TAG}/${target} 200"
done
want_writes+=$'\n'"PATCH ${v} 200"
expect "hub: what the CLI published" "$(hub_writes | grep -v ' 401$')" "${want_writes}"
log "ok: hub-publish.sh published ${TAG} through the real CLI: $(hub_writes | grep -c ' 20[01]$') writes, finalized"
: >"${HUB_DIR}/requests.jsonl"
hub_publish 2>"${work}/hub-rerun.log" || die "hub-publish.sh re-run: $(cat "${work}/hub-rerun.log")"
grep -qF "already published with these checksums; nothing to do" "${work}/hub-rerun.log" || die "$(cat "${work}/hub-rerun.log")"
expect "hub: writes of a re-run with the same package" "$(hub_writes | wc -l)" 0
# Another build of the same version (one zip differs): refused before anything is sent.
other="${work}/hub-other"
rm -rf "${other}" && mkdir -p "${other}/dist" && cp -r "${RUNNER_TEMP}/dist/hub" "${other}/dist/hub"
zip_path="${other}/dist/hub/$(jq -r '.supported_targets[0].path' "${other}/dist/hub/package.json")"
printf 'another build' >>"${zip_path}"
jq --arg c "sha256:$(sha256sum "${zip_path}" | cut -d' ' -f1)" '.supported_targets[0].checksum = $c' \
	"${RUNNER_TEMP}/dist/hub/package.json" >"${other}/dist/hub/package.json"
RUNNER_TEMP="${other}" refused "hub-publish.sh of another build of ${TAG}" \
	"is already published on the Hub with other contents: linux_amd64 (Hub" hub_publish
expect "hub: writes of a re-run with another build" "$(hub_writes | wc -l)" 0
log "ok: the Hub version is immutable (same package: no-op; another build: refused, nothing sent)"
hub_stop
unset CLOUDQUERY_API_URL CLOUDQUERY_API_KEY

# --- exact tags: re-runs re-tag without building; a moved tag is refused --------------------------
local_up="${ROOT}/node_modules/.bin/ts-node --transpile-only scripts/release/local-up.ts"
# release_up NAME VERSION SHA [VAR=VALUE]...: up.sh as that tag's release run, with the real
# `pulumi up` substitute; log in ${work}/up-NAME.log, outputs in ${work}/github-output.NAME.
release_up() {
	local name="$1" version="$2" sha="$3"
	shift 3
	env GITHUB_SHA="${sha}" GITHUB_REF="refs/tags/${version}" GITHUB_REF_NAME="${version}" \
		PULUMI_UP_COMMAND="${local_up}" GITHUB_OUTPUT="${work}/github-output.${name}" "$@" \
		bash scripts/release/up.sh >"${work}/up-${name}.log" 2>&1 || {
		local rc=$? how
		# 128+N: up.sh was ended by signal N, and wrote nothing more (its log just stops).
		how="exit ${rc}"
		((rc > 128)) && how="killed by SIG$(kill -l $((rc - 128)))"
		die "up.sh (${name}) failed (${how}): $(tail -n 30 "${work}/up-${name}.log")"
	}
}
# images_in_state: how many docker-build Images the stack holds (0: nothing can have been built).
images_in_state() {
	pulumi stack export --stack local | jq '[.deployment.resources[] | select(.type == "docker-build:index:Image")] | length'
}
# expect_retag NAME: the guard chose to re-tag, the update built nothing, the digest is ${digest}.
expect_retag() {
	expect "$1: exact-tag guard" "$(sed -n 's/^exact-tags=//p' "${RUNNER_TEMP}/exact-tags.out")" reuse
	expect "$1: index digest the exact tags held" "$(sed -n 's/^index-digest=//p' "${RUNNER_TEMP}/exact-tags.out")" "${digest}"
	expect "$1: imageDigest" "$(jq -r .imageDigest "${RUNNER_TEMP}/outputs.json")" "${digest}"
	expect "$1: docker-build Images in the state" "$(images_in_state)" 0
}
snapshot="${work}/registry.before-exact"
snapshot_image >"${snapshot}"

log "step exact tags: a re-run of ${TAG}"
release_up rerun "${TAG}" "${GITHUB_SHA}"
expect_retag "re-run"
expect "re-run: every tag of ${image#*/} (digests)" "$(snapshot_image)" "$(cat "${snapshot}")"

log "step exact tags: a re-run of ${TAG} after the state was lost"
pulumi stack rm --stack local --force --yes --preserve-config >/dev/null
pulumi stack init local --non-interactive >/dev/null
release_up lost-state "${TAG}" "${GITHUB_SHA}"
expect_retag "lost state"
expect "lost state: state resources" "$(pulumi stack export --stack local | jq -c '[.deployment.resources[].type
	| select(startswith("pulumi:") | not)] | group_by(.) | map({(.[0]): length}) | add')" \
	"$(jq -c '{"cq-release:image:PluginImage": 1, "docker-build:index:Index": length}' <<<"${want_tags}")"
# The indexes were created anew from the same sources: the same bytes, so no tag moved.
expect "lost state: every tag of ${image#*/} (digests)" "$(snapshot_image)" "$(cat "${snapshot}")"

log "step exact tags: ${TAG} moved to another commit is refused"
commit "2025-06-01T00:00:00+00:00" "another commit tagged ${TAG}"
moved_sha="$(git rev-parse HEAD)"
git tag -f -a "${TAG}" -m "${TAG}" >/dev/null
git push -q -f origin "refs/tags/${TAG}"
for override in "" v0.0.1; do
	: >"${work}/up-fails.calls"
	if ALLOW_EXACT_TAG_MOVE="${override}" GITHUB_SHA="${moved_sha}" PULUMI_UP_COMMAND="bash ${work}/up-fails.sh" \
		UP_LOCK_ATTEMPTS=1 GITHUB_OUTPUT=/dev/null bash scripts/release/up.sh >"${work}/up-moved.log" 2>&1; then
		die "up.sh released ${TAG} from another commit (ALLOW_EXACT_TAG_MOVE=${override})"
	fi
	expect "moved tag (override '${override}'): pulumi up calls" "$(wc -l <"${work}/up-fails.calls")" 0
	for want in "exact tags are immutable: ${TAG} is commit ${GITHUB_SHA}'s build (${digest}), not this commit's" \
		"${image}:${TAG} is ${digest}" "This run (commit ${moved_sha}) pushed nothing" \
		"set ALLOW_EXACT_TAG_MOVE=${TAG} for this one run"; do
		grep -qF "${want}" "${work}/up-moved.log" || die "the refusal lacks '${want}': $(cat "${work}/up-moved.log")"
	done
	log "ok: refused (override '${override}'): $(grep -F 'exact tags are immutable' "${work}/up-moved.log" | head -c 300)…"
done
expect "moved tag: every tag of ${image#*/} (digests)" "$(snapshot_image)" "$(cat "${snapshot}")"
git tag -f -a "${TAG}" -m "${TAG}" "${GITHUB_SHA}" >/dev/null
git push -q -f origin "refs/tags/${TAG}"
git reset -q --hard "${GITHUB_SHA}"

# --- rollback: latest back on an earlier release's digest, signature intact ----------------------
if [[ "${TAG}" == *-* ]]; then
	log "step rollback: skipped (${TAG} is a pre-release, which never takes latest)"
else
	next="$(tsnode -e 'import * as semver from "semver"; console.log("v" + semver.inc(process.argv[1].slice(1), "patch"));' "${TAG}")"
	minor="${TAG%.*}"
	# The stand-in "other release" of the up step pushed only a tag; without it the next patch is newest.
	git -C "${work}/origin.git" tag -d "${newer}" >/dev/null
	commit "2025-07-01T00:00:00+00:00" "release ${next}"
	next_sha="$(git rev-parse HEAD)"
	git tag -a "${next}" -m "${next}"
	git push -q origin main "refs/tags/${next}"

	log "step rollback: ${next} released (built) and takes latest"
	release_up next "${next}" "${next_sha}"
	expect "${next}: exact-tag guard" "$(sed -n 's/^exact-tags=//p' "${RUNNER_TEMP}/exact-tags.out")" build
	next_digest="$(jq -r .imageDigest "${RUNNER_TEMP}/outputs.json")"
	[[ "${next_digest}" != "${digest}" ]] || die "${next} has ${TAG}'s digest"
	for t in latest "${minor}" "${next}"; do expect "after ${next}: ${t}" "$(tag_digest "${t}")" "${next_digest}"; done

	log "step rollback: ROLLBACK_TO=${TAG}, re-run ${TAG}"
	release_up rollback "${TAG}" "${GITHUB_SHA}" ROLLBACK_TO="${TAG}"
	grep -qF "::warning::ROLLBACK_TO=${TAG} is set" "${work}/up-rollback.log" || die "no rollback warning"
	expect_retag "rollback"
	for t in latest "${minor}" "${TAG}"; do expect "after the rollback: ${t}" "$(tag_digest "${t}")" "${digest}"; done
	expect "after the rollback: ${next}" "$(tag_digest "${next}")" "${next_digest}"
	# The original run's signature and evidence name this digest: a consumer's check still passes.
	verify_status 0 "latest after the rollback" "${image}@$(tag_digest latest)" "${pinned[@]}"
	expect "rollback: the GitHub Release of ${TAG} is Latest" "$(tsnode scripts/release-notes.ts --print-meta \
		--version "${TAG}" --released-versions "$(jq -nc --arg n "${next}" '[$n]')" --rollback-to "${TAG}" | jq -r .latest)" true

	log "step rollback: the next normal release (a re-run of ${next}) undoes it"
	release_up undo "${next}" "${next_sha}"
	grep -qF "::warning::ROLLBACK_TO" "${work}/up-undo.log" && die "a warning about ROLLBACK_TO without it"
	expect "undo: docker-build Images in the state" "$(images_in_state)" 0
	for t in latest "${minor}" "${next}"; do expect "after ${next} again: ${t}" "$(tag_digest "${t}")" "${next_digest}"; done
	expect "after ${next} again: ${TAG}" "$(tag_digest "${TAG}")" "${digest}"
	git reset -q --hard "${GITHUB_SHA}"
fi

# The cleanup check can fail: a rule deleting untagged versions after 14 days deletes cosign's
# signatures and attestations (untagged manifests), and the release no longer verifies.
log "step cleanup: a policy that deletes untagged versions after 14 days (the check can fail)"
jq -n --arg p v '[
	{id: "keep-releases-and-cache", action: "KEEP", condition: {tagState: "TAGGED", tagPrefixes: [$p, "latest", "buildcache-"]}},
	{id: "delete-untagged", action: "DELETE", condition: {tagState: "UNTAGGED", olderThan: "1209600s"}}]' >"${work}/delete-untagged.json"
deleted="$(cleanup_apply --policies "${work}/delete-untagged.json")"
((deleted > 0)) || die "a delete-untagged policy found nothing to delete: the evidence is not untagged?"
verify_refused 10 "the release after a delete-untagged policy (${deleted} versions deleted)" "no valid signature" \
	"${refs}" "${pinned[@]}"

expect "checkout's Pulumi.local.yaml" "$(sha256sum "${ROOT}/Pulumi.local.yaml")" "${checkout_stack_file}"
log "passed in $((SECONDS - t0)) s: ${TAG} → ${refs} (tags $(jq -r 'join(", ")' <<<"${want_tags}"))"
