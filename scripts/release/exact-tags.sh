#!/usr/bin/env bash
# The exact-tag guard (tooling/exactTagGuard.ts), run by up.sh before every `pulumi up` attempt,
# right after configure.sh: reads what every registry of the stack holds under this release's
# exact tags (`vX.Y.Z`, `vX.Y.Z-<sha7>`) and either
#   - lets the build run (a new release): config `reusePlatformDigests` removed;
#   - re-tags without building (this commit's index is already there: a re-run, a lost state, a
#     run that died between registries, a rollback): `reusePlatformDigests` set to its platform
#     images, and the index digest the update must reproduce kept in $RUNNER_TEMP/exact-tags.out;
#   - refuses (another commit's index, or anything it cannot re-tag exactly): exit 1 before
#     anything is pushed, with the message naming registry, tag, digest and commit.
# Reads PULUMI_STACK (prod), RUNNER_TEMP, ALLOW_EXACT_TAG_MOVE (the one override: must equal the
# version; docs/release.md, "Exact tags"), the registries' login variables (GCR_TOKEN,
# GHCR_USERNAME/GHCR_TOKEN) and CQ_REGISTRY_CA (the rehearsal registry's CA).
set -euo pipefail
# shellcheck source=scripts/release/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

: "${RUNNER_TEMP:?}"
stack="${PULUMI_STACK:-prod}"
config="${RUNNER_TEMP}/stack-config.exact-tags.json"
out="${RUNNER_TEMP}/exact-tags.out"
: >"${out}"
pulumi config --stack "${stack}" --json >"${config}"
err="${RUNNER_TEMP}/exact-tags.err"
rc=0
steps exact-tags --file "${config}" >"${out}" 2>"${err}" || rc=$?
rm -f "${config}"
cat "${err}" >&2
if ((rc != 0)); then
	# The refusal (or the registry error) as the run's error annotation.
	fail "exact-tag guard: $(sed -n 's/^release step: //p' "${err}" | tail -n1) — nothing was pushed"
fi

action="$(sed -n 's/^exact-tags=//p' "${out}")"
case "${action}" in
build)
	pulumi config rm --stack "${stack}" reusePlatformDigests
	log "exact tags: a new release, built"
	;;
reuse)
	digests="$(sed -n 's/^reuse-platform-digests=//p' "${out}")"
	pulumi config set --stack "${stack}" reusePlatformDigests "${digests}"
	log "exact tags: already this commit's $(sed -n 's/^index-digest=//p' "${out}"); re-tagging ${digests}, no build"
	;;
*) fail "exact-tag guard: unexpected answer ${action@Q}" ;;
esac
