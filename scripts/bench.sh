#!/usr/bin/env bash
# Benchmark of the release build (figures only; docs/rehearsal.md, "Benchmark").
# Prunes the BuildKit cache (`buildctl prune --all`) twice: do not run it while another build uses
# this buildkitd. Works on a temporary copy of the working tree; stops only services it started.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${ROOT}"
SERVICES=(registry s3 buildkitd dockerd)

started=()
tmp=""
cleanup() {
	local rc=$?
	if ((${#started[@]})); then bash scripts/services.sh stop "${started[@]}" || rc=1; fi
	if [[ -n "${tmp}" && -d "${tmp}" ]]; then rm -rf "${tmp}"; fi
	exit "${rc}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bash scripts/toolchain.sh >/dev/null
# shellcheck source=scripts/env.sh
source scripts/env.sh
for s in "${SERVICES[@]}"; do
	if ! bash scripts/services.sh status "${s}" >/dev/null; then started+=("${s}"); fi
done
if ((${#started[@]})); then bash scripts/services.sh start "${started[@]}"; fi
bash scripts/base-images.sh --no-smoke >/dev/null

tmp="$(mktemp -d "${TMPDIR:-/tmp}/cq-bench.XXXXXX")"
mkdir "${tmp}/repo"
git ls-files -z --cached --others --exclude-standard |
	while IFS= read -r -d '' f; do [[ -e "${f}" ]] && printf '%s\0' "${f}"; done |
	tar --null -T - -cf - | tar -xf - -C "${tmp}/repo"
ln -s "${ROOT}/node_modules" "${tmp}/repo/node_modules"

CQ_BENCH_DIR="${tmp}/repo" node_modules/.bin/ts-node --transpile-only scripts/bench.ts
