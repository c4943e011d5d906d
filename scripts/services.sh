#!/usr/bin/env bash
# Starts/stops the rehearsal services (CQ_SERVICES of scripts/env.sh) on 127.0.0.1, each recorded
# by PID in ${CQ_RUN_DIR}:
#   registry   Debian's docker-registry (distribution 2.8), https on ${CQ_REGISTRY}
#   buildkitd  BuildKit on unix://${CQ_RUN_DIR}/buildkitd.sock (the buildx builder `local`)
#   dockerd    Docker Engine on unix://${CQ_RUN_DIR}/docker.sock with a data-root made new at every
#              start and removed at stop (so every run is a daemon's first start), unless a Docker
#              daemon is already there to reuse (env.sh: DOCKER_HOST)
#   s3         gofakes3 (in-memory) on ${CQ_S3_ADDR}
# Usage: bash scripts/services.sh start|stop|status [service...]
# `start` is idempotent: a service already running from here is left alone, and one already
# answering on its address but started by someone else is used, never stopped.
# `stop` stops only the processes whose PID (and start time) this script recorded.
# Runs as root or as a user with passwordless sudo (GitHub-hosted runners): buildkitd and dockerd
# are started through `sudo -n` and hand their sockets to the calling user (buildkitd.toml's
# [grpc] uid/gid, dockerd --group); the registry and the S3 emulator run as the user.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/env.sh
source "${ROOT}/scripts/env.sh"

BIN="${CQ_TOOLCHAIN_DIR}/bin"
ETC="${CQ_TOOLCHAIN_DIR}/etc"
# Seconds to wait for a service to answer after start, and to exit after SIGTERM.
READY_TIMEOUT="${CQ_READY_TIMEOUT:-60}"
STOP_TIMEOUT="${CQ_STOP_TIMEOUT:-30}"

log() { printf '[services] %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

pidfile() { printf '%s/%s.pid' "${CQ_RUN_DIR}" "$1"; }
# The per-start data-root of our dockerd.
DOCKER_DATA_ROOT="${CQ_RUN_DIR}/docker-data"
logfile() { printf '%s/%s.log' "${CQ_RUN_DIR}" "$1"; }

# Start time of a process (clock ticks since boot), so a recycled PID is never mistaken for ours.
proc_start() { awk '{print $22}' "/proc/$1/stat" 2>/dev/null; }

# needs_root NAME: true for the services that must run as root.
needs_root() { [[ "$1" == buildkitd || "$1" == dockerd ]]; }

# as_root CMD...: CMD as root, through passwordless sudo when we are not root.
as_root() {
	if [[ "$(id -u)" -eq 0 ]]; then
		"$@"
	else
		sudo -n "$@"
	fi
}

check_sudo() {
	[[ "$(id -u)" -eq 0 ]] && return
	command -v sudo >/dev/null || die "buildkitd and dockerd need root: run as root, or install sudo"
	sudo -n true 2>/dev/null || die "buildkitd and dockerd need root: $(id -un) has no passwordless sudo (sudo -n true failed)"
}

# our_pid NAME: prints the recorded PID if that process is still the one we started.
our_pid() {
	local file pid start
	file="$(pidfile "$1")"
	[[ -f "${file}" ]] || return 1
	read -r pid start _ <"${file}" || return 1
	[[ -n "${pid}" && "$(proc_start "${pid}")" == "${start}" ]] || return 1
	printf '%s' "${pid}"
}

host_of() { printf '%s' "${1%:*}"; }
port_of() { printf '%s' "${1##*:}"; }

# ready NAME: true when the service answers on its address.
ready() {
	case "$1" in
	registry) curl -fs -o /dev/null --max-time 2 --cacert "${CQ_REGISTRY_CA}" "https://${CQ_REGISTRY}/v2/" ;;
	s3) curl -s -o /dev/null --max-time 2 "http://${CQ_S3_ADDR}/" ;;
	buildkitd) "${BIN}/buildctl" --addr "${BUILDKIT_HOST}" --timeout 2 debug workers >/dev/null 2>&1 ;;
	dockerd) "${CQ_DOCKER}" -H "${DOCKER_HOST}" version >/dev/null 2>&1 ;;
	*) die "unknown service: $1" ;;
	esac
}

# command_for NAME: the argv that runs the service in the foreground.
command_for() {
	case "$1" in
	registry) printf '%s\n' /usr/bin/docker-registry serve "${ETC}/registry.yml" ;;
	s3) printf '%s\n' "${BIN}/gofakes3" -backend memory -host "${CQ_S3_ADDR}" -quiet ;;
	buildkitd) printf '%s\n' "${BIN}/buildkitd" --config "${ETC}/buildkitd.toml" ;;
	dockerd)
		# shellcheck disable=SC2086 # CQ_DOCKERD_FLAGS is a space-separated list of extra flags
		printf '%s\n' /usr/sbin/dockerd \
			--host "${DOCKER_HOST}" \
			--group "$(id -g)" \
			--data-root "${DOCKER_DATA_ROOT}" \
			--exec-root "${CQ_RUN_DIR}/docker-exec" \
			--pidfile "${CQ_RUN_DIR}/dockerd.self.pid" \
			--insecure-registry "${CQ_REGISTRY}" \
			--ip 127.0.0.1 \
			${CQ_DOCKERD_FLAGS:-}
		;;
	*) die "unknown service: $1" ;;
	esac
}

# Refuse to listen anywhere but loopback: these services have no authentication.
check_loopback() {
	local addr
	for addr in "${CQ_REGISTRY}" "${CQ_S3_ADDR}"; do
		[[ "$(host_of "${addr}")" == 127.* ]] || die "address ${addr} is not on 127.0.0.0/8"
	done
	[[ "${BUILDKIT_HOST}" == unix://* ]] || die "BUILDKIT_HOST=${BUILDKIT_HOST} must be a unix:// socket"
	[[ "${DOCKER_HOST}" == unix://* ]] || die "DOCKER_HOST=${DOCKER_HOST} must be a unix:// socket"
}

# bound_registry: the registry's storage persists across runs and every rehearsal pushes new
# images; deleting a tag leaves its blobs (and the untagged platform manifests that hold them).
# Distribution 2.8's `garbage-collect --delete-untagged` would also delete the platform manifests of
# a tagged index, so: above CQ_REGISTRY_MAX_MB (default 6144) of storage, every repository but the
# base images (cq-build/) and the local stack's (cq-source-s3) is removed — the rehearsals reset
# theirs at start anyway, and BuildKit keeps its own cache — then, always, an offline
# garbage-collect of the blobs nothing references. Only while the registry is stopped.
bound_registry() {
	local root="${CQ_DATA_DIR}/registry" repos used
	repos="${root}/docker/registry/v2/repositories"
	[[ -d "${repos}" ]] || return 0
	used="$(du -sm "${root}" | cut -f1)"
	if ((used > ${CQ_REGISTRY_MAX_MB:-6144})); then
		find "${repos}" -mindepth 1 -maxdepth 1 -type d ! -name cq-build ! -name cq-source-s3 -exec rm -rf {} +
		log "registry: ${used} MB > ${CQ_REGISTRY_MAX_MB:-6144} MB: removed the rehearsals' repositories"
	fi
	/usr/bin/docker-registry garbage-collect "${ETC}/registry.yml" >/dev/null 2>&1 ||
		log "registry: warning: garbage-collect failed (the storage is left as it was)"
	log "registry: storage ${used} MB → $(du -sm "${root}" | cut -f1) MB"
}

start_one() {
	local name="$1" pid argv=() i
	if pid="$(our_pid "${name}")"; then
		log "${name}: already running (pid ${pid})"
		return
	fi
	rm -f "$(pidfile "${name}")"
	if ready "${name}"; then
		log "${name}: already answering, started elsewhere; using it and leaving it alone"
		return
	fi
	if [[ "${name}" == dockerd && "${DOCKER_HOST}" != "unix://${CQ_RUN_DIR}/docker.sock" ]]; then
		die "dockerd: nothing answers on ${DOCKER_HOST}, which is not ours to start; start that daemon (e.g. sudo systemctl start docker), or unset DOCKER_HOST / set CQ_SYSTEM_DOCKER_SOCK=none to let this script start its own"
	fi
	mapfile -t argv < <(command_for "${name}")
	[[ -x "${argv[0]}" ]] || die "${name}: ${argv[0]} not found; run scripts/toolchain.sh first"
	local via=()
	if needs_root "${name}" && [[ "$(id -u)" -ne 0 ]]; then
		check_sudo
		via=(sudo -n)
	fi
	if [[ "${name}" == registry ]]; then bound_registry; fi
	if [[ "${name}" == dockerd ]]; then
		# A new data-root every start: this run sees what a freshly booted machine's daemon sees.
		as_root rm -rf "${DOCKER_DATA_ROOT}" || die "dockerd: cannot empty ${DOCKER_DATA_ROOT}"
	fi
	# Each service in its own session, so it outlives this script and gets no terminal signals.
	setsid "${via[@]}" "${argv[@]}" >>"$(logfile "${name}")" 2>&1 </dev/null &
	pid=$!
	printf '%s %s %s\n' "${pid}" "$(proc_start "${pid}")" "${via[*]:-direct}" >"$(pidfile "${name}")"
	for ((i = 0; i < READY_TIMEOUT * 4; i++)); do
		if ready "${name}"; then
			log "${name}: ready (pid ${pid}, $((i / 4))s)"
			return
		fi
		if ! kill -0 "${pid}" 2>/dev/null; then
			rm -f "$(pidfile "${name}")"
			tail -n 20 "$(logfile "${name}")" >&2 || true
			die "${name}: exited during start; log: $(logfile "${name}")"
		fi
		sleep 0.25
	done
	tail -n 20 "$(logfile "${name}")" >&2 || true
	die "${name}: not ready after ${READY_TIMEOUT}s (pid ${pid} left running; 'stop' ends it); log: $(logfile "${name}")"
}

stop_one() {
	local name="$1" pid i
	if ! pid="$(our_pid "${name}")"; then
		rm -f "$(pidfile "${name}")"
		log "${name}: not running from here"
		return
	fi
	local signal=(kill)
	# Started through sudo: the recorded PID is sudo's (root), which relays the signal to the service.
	if needs_root "${name}" && [[ "$(id -u)" -ne 0 ]]; then signal=(sudo -n kill); fi
	"${signal[@]}" -TERM "${pid}"
	for ((i = 0; i < STOP_TIMEOUT * 4; i++)); do
		[[ "$(proc_start "${pid}")" == "" ]] && break
		sleep 0.25
	done
	if [[ -n "$(proc_start "${pid}")" ]]; then
		local children
		children="$(cat "/proc/${pid}/task/${pid}/children" 2>/dev/null || true)"
		log "${name}: still running after ${STOP_TIMEOUT}s, sending SIGKILL to ${pid} ${children}"
		# shellcheck disable=SC2086 # a list of PIDs
		"${signal[@]}" -KILL "${pid}" ${children} 2>/dev/null || true
	fi
	rm -f "$(pidfile "${name}")"
	if [[ "${name}" == dockerd ]]; then
		# The daemon leaves its default sandbox's network namespace bind-mounted in its exec-root
		# (docker-exec/netns/default), which makes the directory busy: unmount what it left, deepest first.
		local m
		while read -r m; do
			as_root umount "${m}" 2>/dev/null || log "dockerd: warning: could not unmount ${m}"
		done < <(awk -v a="${CQ_RUN_DIR}/docker-exec/" -v b="${DOCKER_DATA_ROOT}/" \
			'index($2, a) == 1 || index($2, b) == 1 { print $2 }' /proc/self/mounts | sort -r)
		as_root rm -rf "${DOCKER_DATA_ROOT}" "${CQ_RUN_DIR}/docker-exec" ||
			log "dockerd: warning: could not remove ${DOCKER_DATA_ROOT} or ${CQ_RUN_DIR}/docker-exec (the next start retries)"
	fi
	log "${name}: stopped (pid ${pid})"
}

status_one() {
	local name="$1" pid
	if pid="$(our_pid "${name}")"; then
		if ready "${name}"; then
			printf '%-10s running (pid %s)\n' "${name}" "${pid}"
		else
			printf '%-10s started (pid %s) but not answering\n' "${name}" "${pid}"
		fi
	elif ready "${name}"; then
		printf '%-10s answering, not started here\n' "${name}"
	else
		printf '%-10s stopped\n' "${name}"
		return 1
	fi
}

main() {
	local action="${1:-}" services=() name rc=0
	shift || true
	if (($#)); then services=("$@"); else services=("${CQ_SERVICES[@]}"); fi
	for name in "${services[@]}"; do
		case " ${CQ_SERVICES[*]} " in
		*" ${name} "*) ;;
		*) die "unknown service '${name}' (known: ${CQ_SERVICES[*]})" ;;
		esac
	done
	case "${action}" in
	start)
		check_loopback
		mkdir -p "${CQ_RUN_DIR}" "${CQ_DATA_DIR}"
		chmod 0700 "${CQ_RUN_DIR}"
		for name in "${services[@]}"; do start_one "${name}"; done
		;;
	stop)
		# Reverse order: dockerd and buildkitd may be talking to the registry.
		for ((rc = ${#services[@]} - 1; rc >= 0; rc--)); do stop_one "${services[rc]}"; done
		rc=0
		;;
	status)
		for name in "${services[@]}"; do status_one "${name}" || rc=1; done
		;;
	*) die "usage: $0 start|stop|status [${CQ_SERVICES[*]}]" ;;
	esac
	return "${rc}"
}

main "$@"
