#!/usr/bin/env bash
# `pulumi preview` of the stack for a pull request (preview.yml), run once and recorded twice:
# the text output (pulumi's raw diff, shown in the log and collapsed in the PR comment) and the
# engine events the release plan is rendered from (plan-comment.sh, tooling/plan/releasePlan.ts).
# The event log is the only JSON form of a preview that carries policy violations: the
# `--json` digest drops them (tooling/plan/previewJson.ts). `--event-log` is the channel the
# Automation API (and so pulumi/actions) reads every operation through; the CLI lists it only
# with PULUMI_DEBUG_COMMANDS set.
# Reads PULUMI_BACKEND_URL, PULUMI_CONFIG_PASSPHRASE (the CLI reads them), RUNNER_TEMP (and its
# policy-config.json from configure.sh), PULUMI_STACK (default prod).
# Writes $RUNNER_TEMP/preview/events.json and output.txt. Exit status: pulumi's, so a failed
# preview (an error, a mandatory policy violation) fails the step after both are written.
set -euo pipefail
# shellcheck source=scripts/release/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

stack="${PULUMI_STACK:-prod}"
: "${RUNNER_TEMP:?}" "${PULUMI_BACKEND_URL:?}"
out="${RUNNER_TEMP}/preview"
mkdir -p "${out}"
rm -f "${out}/events.json" "${out}/output.txt"

status=0
PULUMI_DEBUG_COMMANDS=true pulumi preview --stack "${stack}" --diff --color never --suppress-progress \
	--policy-pack policy --policy-pack-config "${RUNNER_TEMP}/policy-config.json" \
	--event-log "${out}/events.json" | tee "${out}/output.txt" || status=$?
if ((status != 0)); then
	log "pulumi preview exited ${status}; the plan comment still shows what it found"
fi
exit "${status}"
