#!/usr/bin/env bash
# The e2e as it runs on a GitHub-hosted ubuntu-24.04 runner, rehearsed on this machine (issue 8):
#   - an unprivileged user (`cq-runner`) with passwordless sudo, in the `docker` group;
#   - a Docker daemon already running on /var/run/docker.sock (the runners ship one), which the
#     rehearsal must reuse rather than install or start its own; it is started here with a new
#     data-root, so it is also a daemon's first start;
#   - a fresh clone the user owns, and empty service state (registry, BuildKit) for this run, so
#     its image build is cold (.ci/run uses it as the cold half of the reproducibility proof);
#   - the toolchain's binaries restored into the user's own cache, as a runner restores a cache
#     (issue 22): the Go builds root's `npm run toolchain` just made (bin/, libexec/, stamps/) are
#     copied into the user's CQ_TOOLCHAIN_DIR and given to the user, so the user's toolchain.sh
#     finds them cached instead of building them again (≈ 25 min on 2 cores). What this run proves
#     is unchanged: an unprivileged user, sudo for buildkitd, a pre-existing daemon, fresh service
#     state; the Go build of the tools is root's run's proof, from the same pinned go.sum, and the
#     stamps still hold only for the same versions and inputs (anything else is rebuilt as the
#     user). Nothing per-user is copied: the user's toolchain.sh still makes its own registry TLS,
#     buildkitd.toml (with the user's uid), buildx instances and Pulumi plugin install. Without a
#     root toolchain (this script run alone), the user builds its own.
# Runs `npm ci`, the unit suite and `npm run test:e2e` as that user. Root only (it creates the user). Stops what
# it started, by PID.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUNNER="${CQ_CI_RUNNER_USER:-cq-runner}"
SYSTEM_SOCK=/var/run/docker.sock
READY_TIMEOUT=60

log() { printf '[as-runner] %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}
[[ "$(id -u)" -eq 0 ]] || die "run as root: this script creates the user ${RUNNER}"

work=""
dockerd_pid=""
cleanup() {
	local rc=$? i
	if [[ -n "${dockerd_pid}" ]] && kill -0 "${dockerd_pid}" 2>/dev/null; then
		log "stopping the Docker daemon started here (pid ${dockerd_pid})"
		kill -TERM "${dockerd_pid}" 2>/dev/null || true
		for ((i = 0; i < 120; i++)); do
			kill -0 "${dockerd_pid}" 2>/dev/null || break
			sleep 0.25
		done
		kill -KILL "${dockerd_pid}" 2>/dev/null || true
		# A socket left by a killed daemon would be taken for a running one (scripts/env.sh).
		rm -f "${SYSTEM_SOCK}"
	fi
	if [[ -n "${work}" && -d "${work}" ]]; then rm -rf "${work}" || log "warning: could not remove ${work}"; fi
	exit "${rc}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the runner's user: passwordless sudo, docker group -------------------------------------
if ! command -v sudo >/dev/null; then
	log "installing sudo (Debian)"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends sudo >/dev/null
fi
getent group docker >/dev/null || groupadd --system docker
if ! id -u "${RUNNER}" >/dev/null 2>&1; then
	useradd --create-home --shell /bin/bash "${RUNNER}"
	log "created user ${RUNNER}"
fi
usermod -aG docker "${RUNNER}"
printf '%s ALL=(ALL) NOPASSWD:ALL\n' "${RUNNER}" >/etc/sudoers.d/90-cq-runner
chmod 0440 /etc/sudoers.d/90-cq-runner
home="$(getent passwd "${RUNNER}" | cut -d: -f6)"
uid="$(id -u "${RUNNER}")"

work="$(mktemp -d "${home}/ci-run.XXXXXX")"
chown "${RUNNER}:" "${work}"

# --- a Docker daemon that is already there, as on the runners -------------------------------
if [[ -S "${SYSTEM_SOCK}" ]] && /usr/bin/docker -H "unix://${SYSTEM_SOCK}" version >/dev/null 2>&1; then
	log "a Docker daemon already answers on ${SYSTEM_SOCK}; using it"
else
	mkdir -p "${work}/dockerd"
	setsid /usr/sbin/dockerd --host "unix://${SYSTEM_SOCK}" --group docker \
		--data-root "${work}/dockerd/data" --exec-root "${work}/dockerd/exec" \
		--pidfile "${work}/dockerd/dockerd.pid" >"${work}/dockerd/dockerd.log" 2>&1 </dev/null &
	dockerd_pid=$!
	for ((i = 0; i < READY_TIMEOUT * 4; i++)); do
		/usr/bin/docker -H "unix://${SYSTEM_SOCK}" version >/dev/null 2>&1 && break
		kill -0 "${dockerd_pid}" 2>/dev/null || {
			tail -n 20 "${work}/dockerd/dockerd.log" >&2
			die "dockerd exited during start"
		}
		sleep 0.25
	done
	/usr/bin/docker -H "unix://${SYSTEM_SOCK}" version >/dev/null 2>&1 || die "dockerd not ready after ${READY_TIMEOUT}s"
	log "system Docker daemon on ${SYSTEM_SOCK} (pid ${dockerd_pid}, new data-root)"
fi

# --- the toolchain root built, restored as a runner restores a cache -------------------------
# toolchain_dir [HOME]: CQ_TOOLCHAIN_DIR as scripts/env.sh sets it: this shell's (root's), or
# that of a user with HOME and a clean environment.
toolchain_dir() {
	# shellcheck disable=SC2016 # expanded by the inner bash, after sourcing env.sh
	local print='source "$1/scripts/env.sh" && printf "%s" "${CQ_TOOLCHAIN_DIR}"'
	if (($#)); then
		env -i HOME="$1" PATH=/usr/bin:/bin bash -c "${print}" env "${ROOT}"
	else
		bash -c "${print}" env "${ROOT}"
	fi
}

# restore_toolchain SRC DEST USER: SRC's built binaries and stamps (bin/, libexec/, stamps/), in
# place of DEST's, owned by USER. Not etc/ and buildx/ (the user's TLS, buildkitd.toml, builders:
# the user's own toolchain.sh makes those), nor lint/ (scripts/lint.sh's; not run here).
restore_toolchain() {
	local src="$1" dest="$2" user="$3" d
	if [[ ! -d "${src}/stamps" ]]; then
		log "no toolchain in ${src}: ${user} builds its own"
		return
	fi
	runuser -u "${user}" -- mkdir -p "${dest}"
	for d in bin libexec stamps; do
		rm -rf "${dest:?}/${d}"
		if [[ -d "${src}/${d}" ]]; then
			cp -a "${src}/${d}" "${dest}/${d}"
			chown -R "${user}:" "${dest}/${d}"
		fi
	done
	log "toolchain restored from ${src} to ${dest}: $(find "${dest}/stamps" -type f -printf '%f ')"
}

restore_toolchain "$(toolchain_dir)" "$(toolchain_dir "${home}")" "${RUNNER}"

# --- a fresh clone the user owns ------------------------------------------------------------
git clone -q "${ROOT}" "${work}/repo"
chown -R "${RUNNER}:" "${work}/repo"
mkdir -p "${work}/data"
chown "${RUNNER}:" "${work}/data"

log "npm ci, npm test, npm run test:e2e as ${RUNNER} (uid ${uid}) in ${work}/repo"
t0=${SECONDS}
# A login-like environment: nothing of root's leaks in but the CA bundle Node needs here.
# shellcheck disable=SC2016 # the bash -c script is expanded by the user's shell, not this one
runuser -u "${RUNNER}" -- env -i \
	HOME="${home}" USER="${RUNNER}" LOGNAME="${RUNNER}" LANG=C.UTF-8 CI=true \
	PATH="/usr/local/go/bin:${home}/go/bin:/usr/local/bin:/usr/bin:/bin" \
	NODE_EXTRA_CA_CERTS="${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}" \
	CQ_DATA_DIR="${work}/data" CQ_E2E_DIST_RECORD="${CQ_E2E_DIST_RECORD:-}" \
	CQ_E2E_REPRO="${CQ_E2E_REPRO:-rebuild}" CQ_E2E_EXPECT_COLD="${CQ_E2E_EXPECT_COLD:-}" \
	bash -c 'set -euo pipefail
		cd "$1"
		[[ "$(id -u)" -ne 0 ]] || { echo "still root" >&2; exit 1; }
		npm ci --no-audit --no-fund
		npm run deps:policy
		npm test
		npm run test:e2e' as-runner "${work}/repo"
log "passed as ${RUNNER} in $((SECONDS - t0)) s"
