#!/usr/bin/env bash
# Release metadata, from the clone as it is: checks the pushed tag (strict semver vX.Y.Z[-pre],
# pointing at GITHUB_SHA), lists every other release tag (releasedVersions: `latest` and `vX.Y`
# never move backwards) and the commit time; appends to $GITHUB_OUTPUT:
#   version=v1.2.3   released-versions=["v1.1.0",...]   commit-time=2025-01-01T00:00:00Z
# Reads GITHUB_REF, GITHUB_REF_NAME, GITHUB_SHA, GITHUB_OUTPUT. up.sh and notes.sh run it again
# after fetching the tags, so every decision uses the tags that exist at that moment.
set -euo pipefail
# shellcheck source=scripts/release/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

: "${GITHUB_OUTPUT:?}" "${GITHUB_SHA:?}" "${GITHUB_REF_NAME:?}"
commit_time="$(git show -s --format=%cI "${GITHUB_SHA}")"
out="$(git tag --list | steps metadata --commit-time "${commit_time}")" || fail "release metadata refused (see above)"
# The tag must still name the commit this run builds: a moved tag is never released.
tagged="$(git rev-parse --verify --quiet "refs/tags/${GITHUB_REF_NAME}^{commit}" || true)"
if [[ "${tagged}" != "${GITHUB_SHA}" ]]; then
	fail "tag ${GITHUB_REF_NAME} points at ${tagged:-nothing}, not at GITHUB_SHA ${GITHUB_SHA}"
fi
printf '%s\n' "${out}" >>"${GITHUB_OUTPUT}"
printf '%s\n' "${out}" | sed 's/^/[release] /' >&2
