#!/usr/bin/env bash
# End-to-end test of the release (docs/rehearsal.md, "End-to-end test"):
#   toolchain → services (starting only those not already up) → substitute base images →
#   mocha test/e2e/*.e2e.ts on a temporary copy of the working tree → the CloudQuery sync test
#   (test/e2e/sync/run.sh <image-ref>) → stop exactly the services this script started.
# The copy keeps the experiments (edits to index.ts and plugin/main.go) out of the checkout.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${ROOT}"
SERVICES=(registry s3 buildkitd dockerd)

log() { printf '[e2e] %s\n' "$*" >&2; }

started=()
tmp=""
cleanup() {
	local rc=$?
	if ((${#started[@]})); then
		log "stopping the services this run started: ${started[*]}"
		bash scripts/services.sh stop "${started[@]}" || rc=1
	fi
	if [[ -n "${tmp}" && -d "${tmp}" ]]; then rm -rf "${tmp}"; fi
	exit "${rc}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

t0=${SECONDS}
bash scripts/toolchain.sh
# shellcheck source=scripts/env.sh
source scripts/env.sh

for s in "${SERVICES[@]}"; do
	if ! bash scripts/services.sh status "${s}" >/dev/null; then started+=("${s}"); fi
done
if ((${#started[@]})); then bash scripts/services.sh start "${started[@]}"; fi
bash scripts/base-images.sh --no-smoke

# The working tree as it is (tracked + untracked, not ignored, deletions honoured), without .git.
tmp="$(mktemp -d "${TMPDIR:-/tmp}/cq-e2e.XXXXXX")"
mkdir "${tmp}/repo" "${tmp}/out"
git ls-files -z --cached --others --exclude-standard |
	while IFS= read -r -d '' f; do [[ -e "${f}" ]] && printf '%s\0' "${f}"; done |
	tar --null -T - -cf - | tar -xf - -C "${tmp}/repo"
ln -s "${ROOT}/node_modules" "${tmp}/repo/node_modules"
log "repository copy: ${tmp}/repo"

CQ_E2E_DIR="${tmp}/repo" CQ_E2E_OUT="${tmp}/out" \
	node_modules/.bin/mocha --config .mocharc.e2e.json

ref="$(cat "${tmp}/out/image-ref")"
if [[ ! -f test/e2e/sync/run.sh ]]; then
	log "FAIL: test/e2e/sync/run.sh is missing: the CloudQuery sync through ${ref} was not tested"
	exit 1
fi
log "CloudQuery sync through ${ref}"
bash test/e2e/sync/run.sh "${ref}"
log "passed in $((SECONDS - t0)) s"
