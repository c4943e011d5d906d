#!/usr/bin/env bash
# End-to-end test of the release (docs/rehearsal.md, "End-to-end test"), in one rehearsal session
# (scripts/with-services.sh: toolchain, services, base images, a temporary copy of the tree):
#   mocha test/e2e/*.e2e.ts on the copy → the CloudQuery sync test (test/e2e/sync/run.sh <image-ref>
#   <dist dir>: the image, then the GitHub Release zip as `registry: local` and `registry: github`).
# The copy keeps the experiments (edits to index.ts and plugin/main.go) out of the checkout.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${ROOT}"

if [[ -z "${CQ_REPO_COPY:-}" ]]; then exec bash scripts/with-services.sh --toolchain e2e bash "$0" "$@"; fi

log() { printf '[e2e] %s\n' "$*" >&2; }
t0=${SECONDS}
CQ_E2E_DIR="${CQ_REPO_COPY}" CQ_E2E_OUT="${CQ_SESSION_DIR}" \
	node_modules/.bin/mocha --config .mocharc.e2e.json

ref="$(cat "${CQ_SESSION_DIR}/image-ref")"
if [[ ! -f test/e2e/sync/run.sh ]]; then
	log "FAIL: test/e2e/sync/run.sh is missing: the CloudQuery sync through ${ref} was not tested"
	exit 1
fi
dist="$(cat "${CQ_SESSION_DIR}/dist-dir" 2>/dev/null || true)"
if [[ -z "${dist}" || ! -d "${dist}" ]]; then
	log "FAIL: no dist directory from the e2e (${CQ_SESSION_DIR}/dist-dir): the zips' syncs were not tested"
	exit 1
fi
log "CloudQuery sync through ${ref} and the zips of ${dist}"
bash test/e2e/sync/run.sh "${ref}" "${dist}"
log "passed in $((SECONDS - t0)) s"
