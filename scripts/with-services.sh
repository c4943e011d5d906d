#!/usr/bin/env bash
# One rehearsal session, shared by the e2e, the release rehearsal and the benchmark:
#   toolchain → the services not already running → substitute base images (scripts/lib/setup.sh)
#   → a copy of the working tree → CMD → stop exactly the services this session started, remove
#   the copy.
#   bash scripts/with-services.sh [--toolchain PROFILE|TOOL[,...]] CMD [ARG...]
# --toolchain: the tools CMD runs (scripts/toolchain.sh's profiles and tools; default all).
# CMD runs from the repository root with scripts/env.sh's environment and:
#   CQ_REPO_COPY   a temporary copy of the working tree (tracked + untracked, not ignored; no .git),
#                  node_modules linked, so experiments never touch the checkout
#   CQ_SESSION_DIR a temporary directory for CMD's own files (removed afterwards)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${ROOT}"
usage() {
	echo "usage: $0 [--toolchain PROFILE|TOOL[,...]] CMD [ARG...]" >&2
	exit 2
}
tools=(all)
if [[ "${1:-}" == --toolchain ]]; then
	(($# >= 2)) || usage
	IFS=, read -ra tools <<<"$2"
	shift 2
fi
(($# > 0)) || usage

log() { printf '[session] %s\n' "$*" >&2; }
# shellcheck source=scripts/lib/setup.sh
source scripts/lib/setup.sh

session=""
cleanup() {
	local rc=$?
	if ((${#SETUP_STARTED[@]})); then
		log "stopping the services this session started: ${SETUP_STARTED[*]}"
		bash scripts/services.sh stop "${SETUP_STARTED[@]}" || rc=1
	fi
	if [[ -n "${session}" && -d "${session}" ]]; then rm -rf "${session}"; fi
	exit "${rc}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

setup_toolchain "${tools[@]}"
setup_services

session="$(mktemp -d "${TMPDIR:-/tmp}/cq-session.XXXXXX")"
mkdir "${session}/repo" "${session}/work"
git ls-files -z --cached --others --exclude-standard |
	while IFS= read -r -d '' f; do [[ -e "${f}" ]] && printf '%s\0' "${f}"; done |
	tar --null -T - -cf - | tar -xf - -C "${session}/repo"
ln -s "${ROOT}/node_modules" "${session}/repo/node_modules"
if [[ -d "${ROOT}/policy/node_modules" ]]; then ln -s "${ROOT}/policy/node_modules" "${session}/repo/policy/node_modules"; fi
log "repository copy: ${session}/repo"

CQ_REPO_COPY="${session}/repo" CQ_SESSION_DIR="${session}/work" "$@"
