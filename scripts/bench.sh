#!/usr/bin/env bash
# Benchmark of the release build (figures only; docs/rehearsal.md, "Benchmark"), in one rehearsal
# session (scripts/with-services.sh). Prunes the BuildKit cache (`buildctl prune --all`) twice: do
# not run it while another build uses this buildkitd.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${ROOT}"

if [[ -z "${CQ_REPO_COPY:-}" ]]; then exec bash scripts/with-services.sh --toolchain release bash "$0" "$@"; fi
CQ_BENCH_DIR="${CQ_REPO_COPY}" node_modules/.bin/ts-node --transpile-only scripts/bench.ts
