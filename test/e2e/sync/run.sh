#!/usr/bin/env bash
# End-to-end sync through the published plugin image:
#   bash test/e2e/sync/run.sh <image-ref>      e.g. 127.0.0.1:5000/rehearsal/cq-source-s3:test
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
#    "malformed parquet" skip warning for the corrupt object.
# Needs the rehearsal toolchain and services (npm run toolchain && npm run services:start).
# Exits non-zero on any mismatch. Set CQ_E2E_KEEP=1 to keep the work directory.
set -euo pipefail

usage() { echo "usage: $0 <image-ref>" >&2; }
if [[ $# -ne 1 || -z "$1" ]]; then
	usage
	exit 2
fi
IMAGE="$1"
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

for tool in go cloudquery gofakes3 curl timeout "${CQ_DOCKER}"; do
	command -v "${tool}" >/dev/null || die "${tool} not found (run: npm run toolchain && source scripts/env.sh)"
done
"${CQ_DOCKER}" version --format '{{.Server.Version}}' >/dev/null 2>&1 ||
	die "dockerd at ${DOCKER_HOST} does not answer (run: npm run services:start)"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/cq-e2e-sync.XXXXXX")"
# Unique per run, so cleanup removes only containers this run's CLI created (named <source>-<uuid>).
SOURCE_NAME="s3-e2e-$$"
S3_PID=""
cleanup() {
	local rc=$?
	if [[ -n "${S3_PID}" ]] && kill -0 "${S3_PID}" 2>/dev/null; then
		kill "${S3_PID}" 2>/dev/null || true
		wait "${S3_PID}" 2>/dev/null || true
	fi
	local ids
	ids="$("${CQ_DOCKER}" ps -aq --filter "name=^/${SOURCE_NAME}-" 2>/dev/null || true)"
	if [[ -n "${ids}" ]]; then
		# shellcheck disable=SC2086 # one id per word
		"${CQ_DOCKER}" rm -f ${ids} >/dev/null 2>&1 || true
	fi
	if [[ ${rc} -ne 0 || "${CQ_E2E_KEEP:-0}" == "1" ]]; then
		log "work directory kept: ${WORK} (cloudquery.log, gofakes3.log, config.yml, out/)"
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

S3_PORT=""
for _ in 1 2 3 4 5; do
	port=$((20000 + RANDOM % 20000))
	gofakes3 -backend memory -host "${GATEWAY}:${port}" >"${WORK}/gofakes3.log" 2>&1 &
	S3_PID=$!
	for _ in $(seq 1 50); do
		kill -0 "${S3_PID}" 2>/dev/null || break
		if curl -s -o /dev/null --max-time 1 "http://${GATEWAY}:${port}/"; then
			S3_PORT="${port}"
			break
		fi
		sleep 0.1
	done
	[[ -n "${S3_PORT}" ]] && break
	kill "${S3_PID}" 2>/dev/null || true
	wait "${S3_PID}" 2>/dev/null || true
	S3_PID=""
done
[[ -n "${S3_PORT}" ]] || die "gofakes3 did not start on ${GATEWAY} (see ${WORK}/gofakes3.log)"
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
mkdir -p "${WORK}/out"
cat >"${WORK}/config.yml" <<EOF
kind: source
spec:
  name: ${SOURCE_NAME}
  registry: docker
  path: ${IMAGE}
  tables: ["*"]
  destinations: ["jsonl"]
  spec: # bucket and path_prefix: internal/dataset's Bucket and PathPrefix
    bucket: lake
    region: us-east-1
    path_prefix: exports
    endpoint: ${ENDPOINT}
    access_key_id: \${S3_ACCESS_KEY_ID}
    secret_access_key: \${S3_SECRET_ACCESS_KEY}
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
    directory: ${WORK}/out
EOF

log "cloudquery sync (timeout ${SYNC_TIMEOUT}s)"
sync_start=${SECONDS}
# stdout (a progress spinner) goes to a file; the log file is what compare reads.
if ! (cd "${WORK}" && timeout --kill-after=10 "${SYNC_TIMEOUT}" cloudquery sync config.yml \
	--cq-dir "${WORK}/.cq" --log-file-name "${WORK}/cloudquery.log" --log-level info \
	--telemetry-level none >"${WORK}/cloudquery.out"); then
	tail -n 40 "${WORK}/cloudquery.log" >&2 || true
	die "cloudquery sync failed (log: ${WORK}/cloudquery.log)"
fi
sync_s=$((SECONDS - sync_start))
log "cloudquery: $(tr '\r' '\n' <"${WORK}/cloudquery.out" | grep -F 'Sync completed' | tail -n 1)"

"${WORK}/bin/compare" -dir "${WORK}/out" -source-name "${SOURCE_NAME}" -log "${WORK}/cloudquery.log"
log "PASS: sync ${sync_s}s, total $((SECONDS - start_s))s (image ${IMAGE})"
