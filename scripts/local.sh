#!/usr/bin/env bash
# The `local` stack, one command from a fresh clone (docs/rehearsal.md, "The local stack").
#   bash scripts/local.sh up       toolchain → services → base images → build + push the image
#   bash scripts/local.sh preview|destroy|outputs [--set key=value]...
# Services are started if needed and left running (stop them with `npm run services:stop`).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "${ROOT}"
cmd="${1:-}"
case "${cmd}" in
up | preview | destroy | outputs) ;;
*)
	echo "usage: $0 up|preview|destroy|outputs [--set key=value]..." >&2
	exit 2
	;;
esac
bash scripts/toolchain.sh
# shellcheck source=scripts/env.sh
source scripts/env.sh
if [[ "${cmd}" == up || "${cmd}" == preview ]]; then
	bash scripts/services.sh start
	# Substitute bases (no pulls here); same digests when re-run.
	bash scripts/base-images.sh --no-smoke
fi
exec node_modules/.bin/ts-node --transpile-only scripts/local-stack.ts "$@"
