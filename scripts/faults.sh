#!/usr/bin/env bash
# Faults rehearsal (docs/rehearsal.md, "Faults rehearsal"): the release's `up` step on its bad
# days. Each fault starts the real scripts/release/up.sh (PULUMI_UP_COMMAND=local-up.ts, as in
# scripts/rehearse-release.sh) for a new tag, injects the fault at the right moment (watching the
# up log), then runs the release again and asserts: it converged (outputs complete; every tag in
# the registry is an index with every platform), or it stopped with exactly one error naming one
# command; the registry invariant holds after the faulted run too; nothing the runs started is
# left running. Prints a table: fault, outcome, seconds to recover (from the fault's end to the
# next run's success).
#   bash scripts/faults.sh            (npm run test:faults)  the quick set
#   FAULTS=all bash scripts/faults.sh                         every fault
#   FAULTS="stale-lock concurrent" bash scripts/faults.sh     those
# Faults: engine-build engine-push registry-down buildkitd-kill stale-lock live-lock concurrent
#   local-up: `npm run local:up` (scripts/local.sh up, the Automation API) whose engine is killed
#   mid-update, as Ctrl-C does; the next local:up must delete the stale lock itself and converge,
#   and, run on a release's commit with a changed tree, push only `<tag>-dirty` tags
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${ROOT}"

if [[ -z "${CQ_REPO_COPY:-}" ]]; then exec bash scripts/with-services.sh --toolchain local bash "$0" "$@"; fi

ALL=(engine-build engine-push stale-lock live-lock concurrent local-up registry-down buildkitd-kill)
QUICK=(engine-push stale-lock live-lock concurrent local-up)
case "${FAULTS:-quick}" in
quick) read -ra faults <<<"${QUICK[*]}" ;;
all) read -ra faults <<<"${ALL[*]}" ;;
*) read -ra faults <<<"${FAULTS}" ;;
esac
# Bound of every wait for a state of the up log, seconds.
WAIT_S="${FAULTS_WAIT_SECONDS:-600}"
PLATFORMS=(linux/amd64 linux/arm64)

t0=${SECONDS}
log() { printf '[faults] %s\n' "$*" >&2; }
die() {
	log "FAIL: $*"
	exit 1
}
tsnode() { "${ROOT}/node_modules/.bin/ts-node" --transpile-only "$@"; }

repo="${CQ_REPO_COPY}"
work="${CQ_SESSION_DIR}"
# FAULTS_LOG_DIR: where to keep each run's logs (the session is removed at the end).
if [[ -n "${FAULTS_LOG_DIR:-}" ]]; then
	trap 'rm -rf "${FAULTS_LOG_DIR}" && mkdir -p "${FAULTS_LOG_DIR}" && cp -r "${work}/." "${FAULTS_LOG_DIR}/" && rm -rf "${FAULTS_LOG_DIR}/origin.git" "${FAULTS_LOG_DIR}/checkout-2"' EXIT
fi
cd "${repo}"
[[ -d policy/node_modules ]] || die "policy/node_modules is missing: run npm run deps:policy first"

# --- the repository and the stack, as scripts/rehearse-release.sh sets them up ----------------
git init -q -b main .
printf 'node_modules\n' >.git/info/exclude
git config user.name "Rehearsal" && git config user.email "rehearsal@example.invalid"
GIT_AUTHOR_DATE=2025-01-10T08:00:00Z GIT_COMMITTER_DATE=2025-01-10T08:00:00Z git commit -q --allow-empty -m "release v1.1.0"
git tag v1.1.0
git init -q --bare "${work}/origin.git"
git remote add origin "${work}/origin.git"
git push -q origin main --tags

export GITHUB_REPOSITORY="cloudquery-example/cq-source-s3" GITHUB_SERVER_URL="https://github.com" GITHUB_REF_TYPE=tag
export PULUMI_STACK=local PULUMI_BACKEND_URL="file://${repo}/.pulumi-local"
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE:-local-only}"
export GHCR_USERNAME=rehearsal GHCR_TOKEN=rehearsal-unused-token
export PATH="${repo}/policy/test/engine:${PATH}"
export PULUMI_UP_COMMAND="${ROOT}/node_modules/.bin/ts-node --transpile-only scripts/release/local-up.ts"
image="${CQ_REGISTRY}/cq-source-s3-faults"
mkdir -p "${repo}/.pulumi-local"
pulumi stack init local --non-interactive >/dev/null
pulumi config set --stack local imageName "${image##*/}"
pulumi config set --stack local builderImage "$(sed -n 's/^BUILDER_IMAGE=//p' "${CQ_DATA_DIR}/base-images.env")"
pulumi config set --stack local runtimeImage "$(sed -n 's/^RUNTIME_IMAGE=//p' "${CQ_DATA_DIR}/base-images.env")"
lockdir="${repo}/.pulumi-local/.pulumi/locks/organization/cq-source-s3-release/local"
# The commits are the same every run: start without the previous run's releases, or the exact-tag
# guard (exact-tags.sh) re-tags them instead of building.
# shellcheck source=scripts/lib/registry.sh
source "${ROOT}/scripts/lib/registry.sh"
registry_reset "${image#*/}" || die "could not empty ${image}"

# --- helpers ------------------------------------------------------------------------------------
minor=2
# new_tag [src]: a new commit and tag vX.Y.0, in $tag (a new version: the images are built and
# pushed again); with `src`, the commit changes the plugin's code, so the build compiles and links
# again (seconds, not milliseconds, to inject a fault into).
# The change carries this run's id: BuildKit's cache outlives a run on a warm machine, and a change
# made identically by an earlier run would be a cache hit with no build left to fault.
RUN_ID="$(date +%s%N)-$$"
new_tag() {
	minor=$((minor + 1))
	local t="v1.${minor}.0"
	if [[ "${1:-}" == src ]]; then
		printf '\nvar faultsRehearsal%d = "%s %s"\n' "${minor}" "${t}" "${RUN_ID}" >>plugin/main.go
		git add plugin/main.go
	fi
	GIT_AUTHOR_DATE="2025-02-${minor}T08:00:00Z" GIT_COMMITTER_DATE="2025-02-${minor}T08:00:00Z" \
		git commit -q --allow-empty -m "release ${t}"
	git tag -a "${t}" -m "${t}"
	git push -q origin main "${t}"
	tag="${t}"
}
# procs MARK: the processes (not this shell's) that carry FAULT_RUN=MARK in their environment.
procs() {
	local p
	for p in /proc/[0-9]*; do
		grep -qzxF "FAULT_RUN=$1" "${p}/environ" 2>/dev/null && printf '%s\n' "${p#/proc/}"
	done
	return 0
}
# engine MARK: the `pulumi up` engine among procs MARK (the CLI process that holds the lock).
engine() {
	local p
	for p in $(procs "$1"); do
		[[ "$(cat "/proc/${p}/comm" 2>/dev/null)" == pulumi ]] || continue
		tr '\0' ' ' <"/proc/${p}/cmdline" 2>/dev/null | grep -qE '^[^ ]*pulumi up ' && printf '%s' "${p}" && return 0
	done
	return 1
}
# start_up NAME TAG [DIR]: up.sh for TAG in the background (in DIR, default the repository), its
# own RUNNER_TEMP; every process it starts carries FAULT_RUN=NAME.
declare -A up_pid
start_up() {
	local name="$1" tag="$2" dir="${3:-${repo}}" rt="${work}/$1"
	mkdir -p "${rt}"
	: >"${rt}/github-output"
	(cd "${dir}" && exec env FAULT_RUN="${name}" RUNNER_TEMP="${rt}" GITHUB_OUTPUT="${rt}/github-output" \
		GITHUB_SHA="$(git rev-parse "${tag}^{commit}")" GITHUB_REF="refs/tags/${tag}" GITHUB_REF_NAME="${tag}" \
		UP_LOCK_ATTEMPTS="${UP_LOCK_ATTEMPTS:-60}" UP_LOCK_WAIT_SECONDS="${UP_LOCK_WAIT_SECONDS:-5}" \
		bash scripts/release/up.sh >"${rt}/up.out" 2>&1) &
	up_pid[${name}]=$!
}
# start_local NAME DIR: `npm run local:up` of the checkout DIR (its own file backend) in the
# background, marked like start_up; its output in $work/NAME/up.out.
start_local() {
	local name="$1" rt="${work}/$1"
	mkdir -p "${rt}"
	(cd "$2" && exec env FAULT_RUN="${name}" bash scripts/local.sh up >"${rt}/up.out" 2>&1) &
	up_pid[${name}]=$!
}
# finish NAME: waits for start_up NAME; its exit status in $rc. Fails if it left a process behind.
finish() {
	local left
	rc=0
	wait "${up_pid[$1]}" || rc=$?
	left="$(procs "$1" | tr '\n' ' ')"
	if [[ -n "${left}" ]]; then
		# shellcheck disable=SC2086 # a list of PIDs
		kill -KILL ${left} 2>/dev/null || true
		die "$1 left processes behind: ${left}"
	fi
}
# wait_log NAME PATTERN: waits (bounded) until the update phase of NAME's up log (from
# "Updating (stack):") matches PATTERN (grep -E). With --diff and no TTY, the engine prints each
# step's diff when that step is done.
wait_log() {
	local i
	for ((i = 0; i < WAIT_S * 5; i++)); do
		awk '/^Updating \(/ { u = 1 } u' "${work}/$1/up.out" 2>/dev/null | grep -qE "$2" && return 0
		kill -0 "${up_pid[$1]}" 2>/dev/null || die "$1 ended before its log showed /$2/: $(tail -n5 "${work}/$1/up.out")"
		sleep 0.2
	done
	die "$1: no /$2/ in ${WAIT_S}s"
}
# errors NAME: the run's error annotations.
errors() { grep '^::error::' "${work}/$1/up.out" || true; }
# converged NAME TAG: the run's outputs are TAG's and complete; the registry invariant holds; and
# the whole registry equals the tag model (test/history/model.ts, an independent reading of the tag
# rules) of the releases converged so far, both ways, with TAG's tags on the digest this run
# reported and exact tags where they first were (test/history/check.ts).
# record_step TAG: TAG's release, once, into the steps the model is run on.
record_step() {
	local sha line
	sha="$(git rev-parse "$1^{commit}")"
	line="$1 ${sha} ${sha}"
	grep -qxF "${line}" "${work}/releases.steps" 2>/dev/null || printf '%s\n' "${line}" >>"${work}/releases.steps"
}
converged() {
	local digest
	jq -e --arg v "$2" '.version == $v and (.imageDigest | startswith("sha256:")) and (.platformDigests | length == 2)' \
		"${work}/$1/outputs.json" >/dev/null || die "$1: incomplete outputs: $(cat "${work}/$1/outputs.json" 2>/dev/null)"
	registry_ok "$1"
	digest="$(jq -r .imageDigest "${work}/$1/outputs.json")"
	record_step "$2"
	tsnode test/history/check.ts check --steps "${work}/releases.steps" --repository "${image#*/}" \
		--ledger "${work}/ledger.json" --digest "$2=${digest}" >"${work}/model-$1.txt" 2>&1 ||
		die "$1: the registry is not the model of the releases so far: $(cat "${work}/model-$1.txt")"
}
registry_ok() {
	tsnode scripts/faults/registry-check.ts "${image#*/}" "${PLATFORMS[@]}" >"${work}/registry-$1.txt" ||
		die "after $1: a release tag's index lacks a platform: $(cat "${work}/registry-$1.txt")"
}
# stopped_clearly NAME: the run stopped with exactly one error, which names a command to run.
stopped_clearly() {
	local e
	e="$(errors "$1")"
	[[ "$(grep -c . <<<"${e}")" == 1 ]] || die "$1: expected one error, got: ${e:-none}"
	grep -qE 'run: [a-z]' <<<"${e}" || die "$1: the error names no command: ${e}"
	log "ok: $1 stopped with: ${e#::error::}"
}
# recover FAULT TAG START: runs the release of TAG again; it must converge. Records the row.
rows=()
recover() {
	local name="$1-next"
	start_up "${name}" "$2"
	finish "${name}"
	((rc == 0)) || die "${name}: did not converge (exit ${rc}): $(errors "${name}") $(tail -n 20 "${work}/${name}/up.out")"
	converged "${name}" "$2"
	rows+=("$1|$4|converged on the next run|$((SECONDS - $3))")
	log "ok: $1: the next run converged in $((SECONDS - $3)) s"
}
# local_tags_of_dirty FAULT TAG BEFORE: the releases' repository after a local:up of TAG's commit
# with a changed tree: every tag of BEFORE (its `tag digest` snapshot) unmoved, and the added tags
# exactly the dirty build's (`TAG-dirty`, `TAG-dirty-<sha7>`, and `-<arch>` tags). Those are
# then deleted, and the repository must equal the tag model of the releases again.
local_tags_of_dirty() {
	local after moved added t digest
	after="$(registry_snapshot "${image#*/}" | grep -v '^buildcache-')" || die "$1: could not read ${image}"
	moved="$(comm -23 <(sort <<<"$3") <(sort <<<"${after}"))"
	[[ -z "${moved}" ]] || die "$1: local:up moved or deleted release tags (tag, digest before): ${moved//$'\n'/; }"
	added="$(comm -13 <(sort <<<"$3") <(sort <<<"${after}"))"
	grep -q "^$2-dirty " <<<"${added}" || die "$1: local:up pushed no $2-dirty tag; added: ${added:-nothing}"
	t="$(grep -vE "^$2-dirty(-[0-9a-f]{7})?(-amd64|-arm64)? " <<<"${added}" || true)"
	[[ -z "${t}" ]] || die "$1: local:up added tags that are not the dirty build's: ${t//$'\n'/; }"
	while read -r t digest; do
		registry_delete "${image#*/}" "${t}" "${digest}" || die "$1: could not delete ${t}"
	done <<<"${added}"
	tsnode test/history/check.ts check --steps "${work}/releases.steps" --repository "${image#*/}" \
		--ledger "${work}/ledger.json" >"${work}/model-$1.txt" 2>&1 ||
		die "$1: the registry is not the model of the releases so far: $(cat "${work}/model-$1.txt")"
	log "ok: $1: local:up pushed only $2-dirty's tags ($(awk '{print $1}' <<<"${added}" | tr '\n' ' ')); no release tag moved"
}
# kill_engine NAME: SIGKILL the `pulumi` engine of NAME's update (the CLI that holds the lock).
kill_engine() {
	local pid
	pid="$(engine "$1")" ||
		die "$1: no pulumi engine running: processes [$(for p in $(procs "$1"); do tr '\0' ' ' <"/proc/${p}/cmdline"; echo; done)]; the end of its log: $(tail -n 15 "${work}/$1/up.out")"
	kill -KILL "${pid}"
	log "killed the engine of $1 (pid ${pid})"
}
# The build: the update has started (the Images, which build and push each platform, come first).
UPDATING='^Updating \('
# The pushes: the first Image step is done (that platform is pushed; the other platform's push and
# the indexes are under way).
IMAGE_PUSHED='docker-build:index:Image: \('
# A step of an Image done: the build is over.
IMAGE_DONE='docker-build:index:Image: \('

# A first release, so each fault starts from a converged stack with a warm cache.
new_tag
log "first release ${tag}"
s=${SECONDS}
start_up first "${tag}"
finish first
((rc == 0)) || die "the first release failed: $(tail -n 30 "${work}/first/up.out")"
converged first "${tag}"
log "first release in $((SECONDS - s)) s"

for fault in "${faults[@]}"; do
	log "=== fault ${fault}"
	case "${fault}" in
	engine-build | engine-push)
		new_tag src
		start_up "${fault}" "${tag}"
		if [[ "${fault}" == engine-build ]]; then
			wait_log "${fault}" "${UPDATING}"
			sleep 3
		else
			wait_log "${fault}" "${IMAGE_PUSHED}"
		fi
		kill_engine "${fault}"
		if [[ "${fault}" == engine-build ]] && awk '/^Updating \(/ { u = 1 } u' "${work}/${fault}/up.out" | grep -qE "${IMAGE_DONE}"; then
			die "${fault}: the build was already over when the engine was killed"
		fi
		s=${SECONDS}
		finish "${fault}"
		((rc != 0)) || die "${fault}: up.sh succeeded although its engine was killed"
		[[ -n "$(ls -A "${lockdir}" 2>/dev/null)" ]] || die "${fault}: the killed engine left no lock (the fault missed)"
		registry_ok "${fault}"
		recover "${fault}" "${tag}" "${s}" "lock left; stale (dead pid) → removed"
		;;
	registry-down)
		new_tag src
		start_up "${fault}" "${tag}"
		wait_log "${fault}" "${UPDATING}"
		bash "${ROOT}/scripts/services.sh" stop registry
		finish "${fault}"
		((rc != 0)) || die "${fault}: up.sh succeeded with the registry down"
		bash "${ROOT}/scripts/services.sh" start registry
		s=${SECONDS}
		registry_ok "${fault}"
		recover "${fault}" "${tag}" "${s}" "up failed: $(errors "${fault}" | head -c 60)"
		;;
	buildkitd-kill)
		new_tag src
		start_up "${fault}" "${tag}"
		wait_log "${fault}" "${UPDATING}"
		sleep 3
		read -r bk _ <"${CQ_RUN_DIR}/buildkitd.pid"
		# shellcheck disable=SC2046 # buildkitd's pid and its children's (it runs under sudo when not root)
		kill -KILL "${bk}" $(cat "/proc/${bk}/task/${bk}/children" 2>/dev/null)
		log "killed buildkitd (pid ${bk})"
		finish "${fault}"
		((rc != 0)) || die "${fault}: up.sh succeeded with buildkitd killed"
		bash "${ROOT}/scripts/services.sh" start buildkitd
		s=${SECONDS}
		registry_ok "${fault}"
		recover "${fault}" "${tag}" "${s}" "up failed: $(errors "${fault}" | head -c 60)"
		;;
	stale-lock)
		# A dead run's lock on this host, and a lock of another runner older than a job lives.
		sleep 0 &
		dead=$!
		wait "${dead}"
		mkdir -p "${lockdir}"
		printf '{"pid":%d,"username":"root","hostname":"%s","timestamp":"%s"}' "${dead}" "$(hostname)" "$(date -u +%FT%TZ)" \
			>"${lockdir}/dead-run.json"
		printf '{"pid":4242,"username":"runner","hostname":"fv-az1-1","timestamp":"%s"}' "$(date -u -d '-2 hours' +%FT%TZ)" \
			>"${lockdir}/lost-runner.json"
		s=${SECONDS}
		recover "${fault}" "${tag}" "${s}" "dead pid here + lock older than the job timeout → removed"
		[[ -z "$(ls -A "${lockdir}")" ]] || die "${fault}: lock files left: $(ls -A "${lockdir}")"
		;;
	live-lock)
		# Another runner's young lock: maybe a live release. Wait (bounded), then one message.
		mkdir -p "${lockdir}"
		printf '{"pid":4242,"username":"runner","hostname":"fv-az1-2","timestamp":"%s"}' "$(date -u +%FT%TZ)" \
			>"${lockdir}/other-release.json"
		s=${SECONDS}
		UP_LOCK_ATTEMPTS=3 UP_LOCK_WAIT_SECONDS=2 start_up "${fault}" "${tag}"
		finish "${fault}"
		((rc != 0)) || die "${fault}: up.sh went past another runner's young lock"
		stopped_clearly "${fault}"
		errors "${fault}" | grep -qF "pulumi cancel --yes --stack local" || die "${fault}: not the cancel command"
		[[ -e "${lockdir}/other-release.json" ]] || die "${fault}: the live lock was removed"
		# The one command, as the platform team would run it.
		pulumi cancel --yes --stack local >/dev/null
		recover "${fault}" "${tag}" "${s}" "stopped: one error naming pulumi cancel; after it"
		;;
	concurrent)
		# Two new releases at once (their own checkouts, one backend), racing over `latest`: the
		# lower version may finish last, and must not take `latest` back (converged checks the model).
		new_tag
		older="${tag}"
		new_tag
		rm -rf "${work}/checkout-2"
		cp -a "${repo}" "${work}/checkout-2"
		s=${SECONDS}
		start_up "${fault}-a" "${tag}"
		start_up "${fault}-b" "${older}" "${work}/checkout-2"
		finish "${fault}-a"
		ra=${rc}
		finish "${fault}-b"
		rb=${rc}
		if ((ra != 0 || rb != 0)); then
			# The error lines and the end of each failed run's log (the cause is above its ::error::).
			for run in a b; do
				r=$([[ ${run} == a ]] && echo "${ra}" || echo "${rb}")
				log "${fault}-${run} (exit ${r}): $(errors "${fault}-${run}" | tr '\n' ' ')"
				((r == 0)) || grep -v '^\s*$' "${work}/${fault}-${run}/up.out" | tail -n 60 | sed "s/^/[faults]   ${run}| /" >&2
			done
			die "${fault}: exit ${ra}/${rb}"
		fi
		grep -qh "the stack is locked by another update" "${work}/${fault}-a/up.out" "${work}/${fault}-b/up.out" ||
			die "${fault}: neither run waited for the lock"
		# Both have released: the model holds both before either is checked.
		record_step "${tag}"
		converged "${fault}-b" "${older}"
		converged "${fault}-a" "${tag}"
		rows+=("${fault}|two new versions at once; one waited on the lock|both converged; latest on the higher|$((SECONDS - s))")
		;;
	local-up)
		# The developer's local:up, killed mid-update (Ctrl-C ends the engine), then run again.
		rm -rf "${work}/checkout-local"
		cp -a "${repo}" "${work}/checkout-local"
		rm -rf "${work}/checkout-local/.pulumi-local"
		# A change to the plugin's code, so the build compiles and links (seconds to kill it in).
		printf '\nvar faultsLocalUp = "%s %s"\n' "${tag}" "${RUN_ID}" >>"${work}/checkout-local/plugin/main.go"
		local_locks="${work}/checkout-local/.pulumi-local/.pulumi/locks"
		# The same repository as the releases: the checkout sits on ${tag}'s commit, but its tree
		# differs (the change above), so local:up builds `${tag}-dirty` and must leave every
		# release tag where it was (scripts/local-stack.ts, gitConfig).
		releases_before="$(registry_snapshot "${image#*/}" | grep -v '^buildcache-')" || die "${fault}: could not read ${image}"
		# As a release re-run leaves it (exact-tags.sh): the stack file says "join ${tag}'s
		# platform digests". A local run must build its tree anyway (a CI run once joined them).
		reuse="$(registry_manifest "${image#*/}" "${tag}" |
			jq -c '[.manifests[] | select(.platform.os == "linux") | {key: "linux/\(.platform.architecture)", value: .digest}] | from_entries')"
		(cd "${work}/checkout-local" && pulumi config set --stack local reusePlatformDigests "${reuse}")
		start_local "${fault}" "${work}/checkout-local"
		wait_log "${fault}" "${UPDATING}"
		# Killed during the build: once the engine holds the lock, one second in. A warm relink of
		# both platforms can end in ~3 s, so the fixed 3 s sleep here once let the update finish
		# first (CI, 2026-12-07). The same day a fresh-cache CI run's next local:up failed to create
		# its Indexes ("…@sha256:…: not found", in its own repository then): the stack file it was
		# copied with carried a release re-run's reusePlatformDigests, so it built nothing and joined
		# digests that repository never had. local:up now ignores that key (set above, to prove it).
		for ((i = 0; i < 50; i++)); do
			[[ -z "$(find "${local_locks}" -name '*.json' 2>/dev/null)" ]] || break
			sleep 0.1
		done
		sleep 1
		kill_engine "${fault}"
		finish "${fault}"
		((rc != 0)) || die "${fault}: local:up succeeded although its engine was killed"
		[[ -n "$(find "${local_locks}" -name '*.json' 2>/dev/null)" ]] || die "${fault}: the killed engine left no lock (the fault missed)"
		s=${SECONDS}
		start_local "${fault}-next" "${work}/checkout-local"
		finish "${fault}-next"
		((rc == 0)) || die "${fault}: the next local:up did not converge (exit ${rc}): $(tail -n 20 "${work}/${fault}-next/up.out")"
		grep -q "deleting the stale lock file://" "${work}/${fault}-next/up.out" ||
			die "${fault}: the next local:up did not delete the stale lock: $(tail -n 20 "${work}/${fault}-next/up.out")"
		[[ -z "$(find "${local_locks}" -name '*.json' 2>/dev/null)" ]] || die "${fault}: lock files left: $(find "${local_locks}" -name '*.json')"
		for run in "${fault}" "${fault}-next"; do
			grep -q "reusePlatformDigests in Pulumi.local.yaml ignored" "${work}/${run}/up.out" ||
				die "${run}: local:up did not ignore the stack file's reusePlatformDigests"
		done
		[[ "$(registry_digest "${image#*/}" "${tag}-dirty")" != "$(registry_digest "${image#*/}" "${tag}")" ]] ||
			die "${fault}: ${tag}-dirty is ${tag}'s index: local:up joined the release's digests instead of building"
		local_tags_of_dirty "${fault}" "${tag}" "${releases_before}"
		rows+=("${fault}|local:up's engine killed mid-update|the next local:up deleted the stale lock, converged|$((SECONDS - s))")
		log "ok: ${fault}: the next local:up converged in $((SECONDS - s)) s"
		;;
	*) die "unknown fault ${fault} (known: ${ALL[*]})" ;;
	esac
done

registry_ok final
log "summary ($((SECONDS - t0)) s in all):"
{
	printf 'fault|what happened|outcome|recovery s\n'
	printf '%s\n' "${rows[@]}"
} | column -t -s '|' >&2
