#!/usr/bin/env bash
# Prints every pin of toolchain/versions.env as KEY=value lines, as a workflow step's outputs:
#   - id: versions
#     run: bash scripts/release/tool-versions.sh >>"${GITHUB_OUTPUT}"
#   ... cosign-release: ${{ steps.versions.outputs.COSIGN_VERSION }}
# so the workflows install exactly what the rehearsal builds and runs, from the one place it is
# written (docs/release.md, "Release-day decisions"; test/toolVersions.test.ts checks both ends).
set -euo pipefail

versions="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/toolchain/versions.env"
# shellcheck source=toolchain/versions.env
source "${versions}"
while IFS= read -r key; do
	value="${!key}"
	[[ "${value}" != *$'\n'* ]] || {
		echo "tool-versions: ${key} spans several lines; a step output cannot hold it" >&2
		exit 1
	}
	printf '%s=%s\n' "${key}" "${value}"
done < <(sed -n 's/^\([A-Z][A-Z0-9_]*\)=.*/\1/p' "${versions}")
