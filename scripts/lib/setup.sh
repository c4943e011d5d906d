# The rehearsal's setup, sourced by scripts/with-services.sh (the session of the e2e, the release
# rehearsal and the benchmark) and scripts/local.sh (the local stack):
#   setup_toolchain [PROFILE|TOOL]...
#                    the toolchain the caller runs (scripts/toolchain.sh: binaries, buildx
#                    builders, registry TLS; all of it without arguments) and its environment
#                    (scripts/env.sh) in the calling shell
#   setup_services   after setup_toolchain: the services of CQ_SERVICES not already running,
#                    then the substitute base images (scripts/base-images.sh, no smoke test);
#                    SETUP_STARTED lists the services it started (set before it starts them, so
#                    a trap can stop them)
# shellcheck shell=bash

SETUP_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
SETUP_STARTED=()

setup_toolchain() {
	bash "${SETUP_ROOT}/scripts/toolchain.sh" "$@"
	# shellcheck source=scripts/env.sh
	source "${SETUP_ROOT}/scripts/env.sh"
}

setup_services() {
	local s
	SETUP_STARTED=()
	for s in "${CQ_SERVICES[@]}"; do
		if ! bash "${SETUP_ROOT}/scripts/services.sh" status "${s}" >/dev/null; then SETUP_STARTED+=("${s}"); fi
	done
	if ((${#SETUP_STARTED[@]})); then bash "${SETUP_ROOT}/scripts/services.sh" start "${SETUP_STARTED[@]}"; fi
	# Substitute bases (no pulls here); the same digests when re-run.
	bash "${SETUP_ROOT}/scripts/base-images.sh" --no-smoke
}
