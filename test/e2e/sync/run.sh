#!/usr/bin/env bash
# End-to-end sync through the published plugin image, and through the release's other doors:
#   bash test/e2e/sync/run.sh <image-ref> [<dist dir>]   e.g. 127.0.0.1:5000/rehearsal/cq-source-s3:test
#
# 1. builds the fixtures of this Go module (seed, destination, compare);
# 2. starts its own in-memory gofakes3 on the gateway address of dockerd's `bridge` network
#    (the plugin container cannot reach 127.0.0.1 of the host; the gateway is this machine's
#    own interface, so nothing leaves it), on a free port;
# 3. seeds a bucket with Parquet files under several prefixes, one corrupt file and objects the
#    plugin must ignore (internal/dataset);
# 4. pulls <image-ref> from its registry and runs `cloudquery sync` with the source as
#    `registry: docker` (S3 endpoint and static test keys in the spec: the CLI passes no host
#    environment to the container) and the jsonl fixture destination as `registry: local`;
# 5. compares the rows that came out with the rows put in, exactly, and requires the plugin's
#    "malformed parquet" skip warning for the corrupt object;
# 6. with <dist dir> (scripts/release/dist.sh's output), the same sync through the other doors:
#    the Hub package as `registry: cloudquery`, published by the real CLI to a stand-in Hub API on
#    127.0.0.1 (scripts/lib/hub.sh) and downloaded from it, checksum checked (a tampered zip there
#    must be refused by the CLI); the GitHub Release zip of linux/amd64 unpacked as
#    `registry: local`, and as `registry: github` from the CLI's plugin cache filled from the zip
#    (the download itself needs github.com).
# Needs the rehearsal toolchain and services (npm run toolchain && npm run services:start).
# Exits non-zero on any mismatch. Set CQ_E2E_KEEP=1 to keep the work directory.
set -euo pipefail

usage() { echo "usage: $0 <image-ref> [<dist dir>]" >&2; }
if [[ $# -lt 1 || $# -gt 2 || -z "$1" ]]; then
	usage
	exit 2
fi
IMAGE="$1"
DIST="${2:-}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "${HERE}/../../.." && pwd)"
# shellcheck source=scripts/env.sh
source "${ROOT}/scripts/env.sh"
SYNC_TIMEOUT="${CQ_E2E_SYNC_TIMEOUT:-300}"
start_s=${SECONDS}

log() { printf '[e2e-sync] %s\n' "$*"; }
die() {
	printf '[e2e-sync] FAIL: %s\n' "$*" >&2
	exit 1
}

for tool in go cloudquery gofakes3 curl jq unzip timeout "${CQ_DOCKER}"; do
	command -v "${tool}" >/dev/null || die "${tool} not found (run: npm run toolchain && source scripts/env.sh)"
done
"${CQ_DOCKER}" version --format '{{.Server.Version}}' >/dev/null 2>&1 ||
	die "dockerd at ${DOCKER_HOST} does not answer (run: npm run services:start)"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/cq-e2e-sync.XXXXXX")"
# Unique per run, so cleanup removes only containers this run's CLI created (named <source>-<uuid>).
SOURCE_NAME="s3-e2e-$$"
PIDS=()
cleanup() {
	local rc=$?
	local pid ids
	for pid in "${PIDS[@]}"; do
		if kill -0 "${pid}" 2>/dev/null; then
			kill "${pid}" 2>/dev/null || true
			wait "${pid}" 2>/dev/null || true
		fi
	done
	# Sharded syncs name their containers <source>_<N>_<M>-<uuid>.
	ids="$("${CQ_DOCKER}" ps -aq --filter "name=^/${SOURCE_NAME}[-_]" 2>/dev/null || true)"
	if [[ -n "${ids}" ]]; then
		# shellcheck disable=SC2086 # one id per word
		"${CQ_DOCKER}" rm -f ${ids} >/dev/null 2>&1 || true
	fi
	if [[ ${rc} -ne 0 || "${CQ_E2E_KEEP:-0}" == "1" ]]; then
		log "work directory kept: ${WORK} (cloudquery*.log, gofakes3.log, config*.yml, out-*/, state/, hub/)"
	else
		rm -rf "${WORK}"
	fi
	exit "${rc}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "testing and building fixtures (test/e2e/sync)"
# The fixtures' own tests first: among them, that the comparer does fail on each kind of mismatch.
(cd "${HERE}" && GOFLAGS="-mod=readonly -buildvcs=false" go test ./...)
(cd "${HERE}" && GOFLAGS="-mod=readonly -buildvcs=false" go build -o "${WORK}/bin/" ./cmd/seed ./cmd/destination ./cmd/compare)

# --- S3 emulator on the docker bridge gateway ---------------------------------------------
# bridge_address: the IPv4 address of the default bridge's interface on this host. The
# interface's own address, not `IPAM.Config[].Gateway`: a daemon's first start (new data-root)
# reports the IPAM config without a Gateway until it is restarted.
bridge_address() {
	local iface addr
	iface="$("${CQ_DOCKER}" network inspect bridge --format '{{index .Options "com.docker.network.bridge.name"}}' 2>/dev/null || true)"
	iface="${iface:-docker0}"
	addr="$(PATH="${PATH}:/usr/sbin:/sbin" ip -4 -o addr show dev "${iface}" 2>/dev/null | awk '{split($4, a, "/"); print a[1]; exit}')"
	if [[ -z "${addr}" ]]; then
		log "no IPv4 address on ${iface}; falling back to the bridge network's IPAM gateway"
		addr="$("${CQ_DOCKER}" network inspect bridge --format '{{range .IPAM.Config}}{{.Gateway}} {{end}}')"
		addr="${addr%% *}"
	fi
	printf '%s' "${addr}"
}
GATEWAY="$(bridge_address)"
[[ "${GATEWAY}" =~ ^(10|172|192)\.[0-9]+\.[0-9]+\.[0-9]+$ ]] ||
	die "docker bridge address '${GATEWAY}' is not a private IPv4 address"
# No separate "is it local" check is needed: listening on an address works only if it is one of
# this machine's own (otherwise: "cannot assign requested address").

# serve_on_gateway LOG CMD...: starts CMD with {ADDR} replaced by ${GATEWAY}:<free port> (up to
# 5 ports tried), waits until the port accepts connections, and sets SERVED_PORT and SERVED_PID.
# PIDS collects every server started, for cleanup.
serve_on_gateway() {
	local logfile="$1" port pid arg args
	shift
	SERVED_PORT="" SERVED_PID=""
	for _ in 1 2 3 4 5; do
		port=$((20000 + RANDOM % 20000))
		args=()
		for arg in "$@"; do args+=("${arg//\{ADDR\}/${GATEWAY}:${port}}"); done
		"${args[@]}" >"${logfile}" 2>&1 &
		pid=$!
		PIDS+=("${pid}")
		for _ in $(seq 1 50); do
			kill -0 "${pid}" 2>/dev/null || break
			if (exec 3<>"/dev/tcp/${GATEWAY}/${port}") 2>/dev/null; then
				SERVED_PORT="${port}" SERVED_PID="${pid}"
				return 0
			fi
			sleep 0.1
		done
		kill "${pid}" 2>/dev/null || true
		wait "${pid}" 2>/dev/null || true
	done
	return 1
}
serve_on_gateway "${WORK}/gofakes3.log" gofakes3 -backend memory -host "{ADDR}" ||
	die "gofakes3 did not start on ${GATEWAY} (see ${WORK}/gofakes3.log)"
S3_PORT="${SERVED_PORT}" S3_PID="${SERVED_PID}"
ENDPOINT="http://${GATEWAY}:${S3_PORT}"
log "gofakes3 (pid ${S3_PID}) on ${ENDPOINT}"

# Test-only keys for the emulator, which accepts any.
export S3_ACCESS_KEY_ID="e2e-access-key" S3_SECRET_ACCESS_KEY="e2e-secret-key"
"${WORK}/bin/seed" -endpoint "${ENDPOINT}"

# --- the image, from its registry -----------------------------------------------------------
log "pulling ${IMAGE}"
timeout 300 "${CQ_DOCKER}" pull --quiet "${IMAGE}" >/dev/null || die "cannot pull ${IMAGE} (was it pushed to its registry?)"
log "image id $("${CQ_DOCKER}" image inspect --format '{{.Id}}' "${IMAGE}"), repo digests $("${CQ_DOCKER}" image inspect --format '{{join .RepoDigests " "}}' "${IMAGE}")"

# --- CloudQuery sync ------------------------------------------------------------------------
# write_config FILE OUT_DIR [STATE_ADDRESS]: the CLI configuration: the source (SOURCE_REGISTRY,
# SOURCE_PATH and SOURCE_VERSION; the image unless set) and the jsonl destination writing into
# OUT_DIR; with STATE_ADDRESS, the source is incremental and keeps its state in a jsonl state
# server there (registry: grpc).
SOURCE_REGISTRY=docker SOURCE_PATH="${IMAGE}" SOURCE_VERSION=""
write_config() {
	local file="$1" out="$2" state="${3:-}"
	mkdir -p "${out}"
	{
		cat <<EOF
kind: source
spec:
  name: ${SOURCE_NAME}
  registry: ${SOURCE_REGISTRY}
  path: ${SOURCE_PATH}
  tables: ["*"]
  destinations: ["jsonl"]
EOF
		if [[ -n "${SOURCE_VERSION}" ]]; then printf '  version: %s\n' "${SOURCE_VERSION}"; fi
		if [[ -n "${state}" ]]; then
			cat <<EOF
  backend_options:
    table_name: cq_state_s3
    connection: "@@plugins.state.connection"
EOF
		fi
		cat <<EOF
  spec: # bucket and path_prefix: internal/dataset's Bucket and PathPrefix
    bucket: lake
    region: us-east-1
    path_prefix: exports
    endpoint: ${ENDPOINT}
    access_key_id: \${S3_ACCESS_KEY_ID}
    secret_access_key: \${S3_SECRET_ACCESS_KEY}
    incremental: $([[ -n "${state}" ]] && echo true || echo false)
    rows_per_record: 2
    concurrency: 2
---
kind: destination
spec:
  name: jsonl
  registry: local
  path: ${WORK}/bin/destination
  write_mode: append
  spec:
    directory: ${out}
EOF
		if [[ -n "${state}" ]]; then
			cat <<EOF
---
kind: destination
spec:
  name: state
  registry: grpc
  path: ${state}
  write_mode: append
  spec:
    directory: ${WORK}/state
EOF
		fi
	} >"${file}"
}
# sync_once NAME [COMPARE FLAGS...]: one full sync with SOURCE_* as set (config-NAME.yml, into
# out-NAME/, its own plugin cache .cq-NAME, log cloudquery-NAME.log), compared with the bucket.
sync_once() {
	local name="$1"
	shift
	write_config "${WORK}/config-${name}.yml" "${WORK}/out-${name}"
	# stdout (a progress spinner) goes to a file; the log file is what compare reads.
	(cd "${WORK}" && timeout --kill-after=10 "${SYNC_TIMEOUT}" cloudquery sync "config-${name}.yml" \
		--cq-dir "${WORK}/.cq-${name}" --log-file-name "${WORK}/cloudquery-${name}.log" --log-level info \
		--telemetry-level none >"${WORK}/cloudquery-${name}.out") ||
		{
			tail -n 40 "${WORK}/cloudquery-${name}.log" >&2
			die "cloudquery sync through ${name} failed (log: ${WORK}/cloudquery-${name}.log)"
		}
	"${WORK}/bin/compare" -dir "${WORK}/out-${name}" -source-name "${SOURCE_NAME}" "$@" -log "${WORK}/cloudquery-${name}.log"
	log "${name}: $(tr '\r' '\n' <"${WORK}/cloudquery-${name}.out" | grep -F 'Sync completed' | tail -n 1)"
}

log "cloudquery sync (timeout ${SYNC_TIMEOUT}s)"
sync_start=${SECONDS}
sync_once docker
sync_s=$((SECONDS - sync_start))

# --- sharded and incremental: --shard 1/3, 2/3 and 3/3 at the same time ---------------------
# Three CLIs, each starting the image, read the same bucket as shards of one sync into one
# destination directory; their union must equal the dataset exactly (a row read by two shards
# is an extra row, one read by none a missing row). State: incremental, in one shared state
# directory; each CLI gets its own state server (as each would have its own connection to a
# shared database). The state servers are `registry: grpc` on the bridge gateway because the CLI
# starts a local backend on 127.0.0.1, which a docker-registry source cannot reach on Linux
# (the CLI rewrites the address to host.docker.internal, i.e. this gateway).
SHARDS=3
mkdir -p "${WORK}/state"
shard_logs=()
for n in $(seq 1 "${SHARDS}"); do
	serve_on_gateway "${WORK}/state-${n}.log" "${WORK}/bin/destination" serve --network tcp --address "{ADDR}" ||
		die "state server ${n} did not start on ${GATEWAY} (see ${WORK}/state-${n}.log)"
	write_config "${WORK}/config-shard-${n}.yml" "${WORK}/out-sharded" "${GATEWAY}:${SERVED_PORT}"
	shard_logs+=("${WORK}/cloudquery-shard-${n}.log")
done

# sync_shards ROUND: runs every shard at once, waits for all, fails if any failed.
sync_shards() {
	local round="$1" n pids=() failed=0
	for n in $(seq 1 "${SHARDS}"); do
		(cd "${WORK}" && exec timeout --kill-after=10 "${SYNC_TIMEOUT}" cloudquery sync "config-shard-${n}.yml" \
			--shard "${n}/${SHARDS}" --cq-dir "${WORK}/.cq-shard-${n}" --log-file-name "${WORK}/cloudquery-shard-${n}.log" \
			--log-level info --telemetry-level none >"${WORK}/cloudquery-shard-${n}.out" 2>&1) &
		pids+=("$!")
	done
	for n in $(seq 1 "${SHARDS}"); do
		if ! wait "${pids[n - 1]}"; then
			tail -n 20 "${WORK}/cloudquery-shard-${n}.log" >&2 || true
			failed=1
		fi
	done
	[[ "${failed}" == 0 ]] || die "round ${round}: a shard's sync failed (logs: ${WORK}/cloudquery-shard-*.log)"
	for n in $(seq 1 "${SHARDS}"); do
		log "round ${round}, shard ${n}/${SHARDS}: $(tr '\r' '\n' <"${WORK}/cloudquery-shard-${n}.out" | grep -F 'Sync completed' | tail -n 1)"
	done
}

# rows_per_shard: how many rows each shard delivered so far (by the CLI's source name).
rows_per_shard() {
	local n counts=()
	for n in $(seq 1 "${SHARDS}"); do
		counts+=("${n}/${SHARDS}:$(cat "${WORK}"/out-sharded/*.jsonl | grep -cF "\"_cq_source_name\":\"${SOURCE_NAME}_${n}_${SHARDS}\"" || true)")
	done
	echo "${counts[*]}"
}

shard_start=${SECONDS}
sync_shards 1
"${WORK}/bin/compare" -dir "${WORK}/out-sharded" -source-name "${SOURCE_NAME}" -shards "${SHARDS}" \
	-log "$(IFS=,; echo "${shard_logs[*]}")"
log "round 1: rows per shard $(rows_per_shard)"
# Each shard keeps its own cursor, all in the one state table.
for n in $(seq 1 "${SHARDS}"); do
	grep -qF "shard=${n}/${SHARDS}" "${WORK}/state/cq_state_s3.jsonl" ||
		die "no cursor of shard ${n}/${SHARDS} in the state table (${WORK}/state/cq_state_s3.jsonl)"
done

# Incremental round: new objects arrive; each must be read by exactly one shard, nothing
# old again (compare: the dataset plus the added objects, each row exactly once).
"${WORK}/bin/seed" -endpoint "${ENDPOINT}" -added
sync_shards 2
"${WORK}/bin/compare" -dir "${WORK}/out-sharded" -source-name "${SOURCE_NAME}" -shards "${SHARDS}" -added
log "round 2: rows per shard $(rows_per_shard)"
log "sharded: 2 rounds of ${SHARDS} shards in $((SECONDS - shard_start))s"

# --- the other doors: the Hub package as `registry: cloudquery`, the GitHub Release zip as
# `registry: local` and as `registry: github`; each a full sync compared with the bucket (which
# holds the incremental round's objects by now: -added) ---
doors=""
if [[ -n "${DIST}" ]]; then
	zip="${DIST}/github/cq-source-s3_linux_amd64.zip"
	[[ -f "${zip}" ]] || die "${zip} is missing (scripts/release/dist.sh)"
	version="$(jq -r .version "${DIST}/hub/package.json")"

	# registry: cloudquery: the real CLI publishes the package to a stand-in Hub API on 127.0.0.1,
	# then a sync downloads the zip from it, checks its SHA-256 against the Hub's and runs it.
	# shellcheck source=scripts/lib/hub.sh
	source "${ROOT}/scripts/lib/hub.sh"
	hub_start "${WORK}/hub" -api-key e2e-hub-key -plugin infobloxopen/source/s3 || die "the stand-in Hub did not start"
	PIDS+=("${HUB_PID}")
	CLOUDQUERY_API_URL="${HUB_URL}" CLOUDQUERY_API_KEY=e2e-hub-key \
		cloudquery plugin publish --finalize -D "${DIST}/hub" --telemetry-level none >"${WORK}/hub-publish.out" 2>&1 ||
		die "cloudquery plugin publish to the stand-in Hub failed: $(tail -n 5 "${WORK}/hub-publish.out")"
	# The sync is anonymous, as a user without `cloudquery login` (no token file, no key).
	export CLOUDQUERY_API_URL="${HUB_URL}" XDG_DATA_HOME="${WORK}/xdg-data"
	SOURCE_REGISTRY=cloudquery SOURCE_PATH=infobloxopen/s3 SOURCE_VERSION="${version}"
	sync_once cloudquery -added
	grep -qF "Downloading ${HUB_URL}/blobs/infobloxopen/source/s3/${version}/linux_amd64" "${WORK}/cloudquery-cloudquery.out" ||
		die "the cloudquery door did not download its zip from the stand-in Hub"
	cmp -s "${WORK}/.cq-cloudquery/plugins/source/infobloxopen/s3/${version}/plugin.zip" \
		"${DIST}/hub/$(jq -r '.supported_targets[] | select(.os == "linux" and .arch == "amd64") | .path' "${DIST}/hub/package.json")" ||
		die "the zip the CLI downloaded is not the package's"
	doors+=" cloudquery"
	# A zip altered on the Hub's storage: the CLI itself refuses it (checksum mismatch), runs nothing.
	printf 'tampered' >>"${HUB_DIR}/assets/infobloxopen/source/s3/${version}/linux_amd64.zip"
	if (cd "${WORK}" && timeout --kill-after=10 "${SYNC_TIMEOUT}" cloudquery sync config-cloudquery.yml \
		--cq-dir "${WORK}/.cq-tampered" --log-file-name "${WORK}/cloudquery-tampered.log" \
		--telemetry-level none >"${WORK}/cloudquery-tampered.out" 2>&1); then
		die "the CLI synced with a tampered zip from the Hub"
	fi
	grep -qF "checksum mismatch: expected $(jq -r '.supported_targets[] | select(.os == "linux" and .arch == "amd64") | .checksum | ltrimstr("sha256:")' "${DIST}/hub/package.json")" \
		"${WORK}/cloudquery-tampered.out" || die "the tampered zip's refusal is not the checksum mismatch: $(tail -n 3 "${WORK}/cloudquery-tampered.out")"
	[[ ! -e "${WORK}/.cq-tampered/plugins/source/infobloxopen/s3/${version}/plugin" ]] || die "the tampered zip was unpacked"
	log "cloudquery: a tampered zip on the Hub is refused by the CLI (checksum mismatch)"
	hub_stop
	unset CLOUDQUERY_API_URL

	mkdir -p "${WORK}/local-door"
	unzip -q -o "${zip}" -d "${WORK}/local-door"
	SOURCE_REGISTRY=local SOURCE_PATH="${WORK}/local-door/cq-source-s3" SOURCE_VERSION=""
	sync_once local -added
	doors+=" local"
	# registry: github downloads github.com/<org>/cq-source-<name>/releases/download/<version>/
	# cq-source-<name>_<os>_<arch>.zip into this cache path and uses a file already there as is.
	cache="${WORK}/.cq-github/plugins/source/infobloxopen/s3/${version}"
	mkdir -p "${cache}"
	unzip -q -o "${zip}" cq-source-s3 -d "${cache}"
	mv "${cache}/cq-source-s3" "${cache}/plugin"
	SOURCE_REGISTRY=github SOURCE_PATH=infobloxopen/s3 SOURCE_VERSION="${version}"
	sync_once github -added
	doors+=" github"
fi

log "PASS: sync ${sync_s}s, total $((SECONDS - start_s))s (image ${IMAGE}${doors:+; doors:${doors}})"
