#!/usr/bin/env bash
# Compares two build records (`<sha256>  <name>` per line, written by the e2e's every-door test
# through CQ_E2E_DIST_RECORD: `image:index` and `image:<os>/<arch>` for the image, then every dist
# file) of two independent builds of one commit; .ci/run calls it with the root run's and the
# unprivileged run's (whose BuildKit state is new, so its build is cold):
#   bash scripts/compare-dist-records.sh FIRST SECOND
# Exit 0 when both exist, hold the image index and files, and are identical; 1 otherwise, naming
# why (a missing or empty record, or one without the image, proves nothing, so it fails too).
set -euo pipefail
if [[ $# -ne 2 ]]; then
	echo "usage: $0 FIRST SECOND" >&2
	exit 2
fi
for record in "$1" "$2"; do
	if [[ ! -s "${record}" ]]; then
		echo "dist records: ${record} is missing or empty: the e2e's every-door test did not record its dist build" >&2
		exit 1
	fi
	if grep -qvE '^[0-9a-f]{64}  [^ ].*$' "${record}"; then
		echo "dist records: ${record} has a line that is not '<sha256>  <file>': $(grep -m1 -vE '^[0-9a-f]{64}  [^ ].*$' "${record}")" >&2
		exit 1
	fi
	if ! grep -qE '^[0-9a-f]{64}  image:index$' "${record}"; then
		echo "dist records: ${record} has no 'image:index' line: the image's reproducibility would go unchecked" >&2
		exit 1
	fi
done
if ! diff "$1" "$2" >&2; then
	echo "dist records: two builds of one commit gave other dist files (above: $1, then $2)" >&2
	exit 1
fi
images=$(grep -c '  image:' "$1")
echo "dist records: the image index, $((images - 1)) platform images and $(($(wc -l <"$1") - images)) files identical in two independent builds"
