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
# shellcheck source=scripts/lib/setup.sh
source scripts/lib/setup.sh
# The engine, its provider and the services' binaries; not the CloudQuery CLI, cosign or syft.
setup_toolchain local
if [[ "${cmd}" == up || "${cmd}" == preview ]]; then setup_services; fi
exec node_modules/.bin/ts-node --transpile-only scripts/local-stack.ts "$@"
