#!/usr/bin/env bash
# Stack config for one release (or preview) run, on the runner's copy of Pulumi.<stack>.yaml
# (nothing is committed), plus the policy-pack config $RUNNER_TEMP/policy-config.json (pushes
# allowed to the registries the stack's config enables).
# Reads (as the workflows set them):
#   PULUMI_BACKEND_URL, PULUMI_CONFIG_PASSPHRASE   state backend and its secrets (the CLI reads them)
#   GITHUB_SHA                 commit
#   RELEASE_VERSION            version; defaults to GITHUB_REF_NAME (the tag); preview passes v0.0.0-pr.<n>
#   COMMIT_TIME                defaults to the committer time of GITHUB_SHA
#   RELEASED_VERSIONS          JSON list of the other release tags (metadata.sh); unset in previews
#   ROLLBACK_TO                a stable release tag to roll latest and its vX.Y back to (config
#                              rollbackTo; docs/release.md, "Rollback"); unset normally (removed)
#   GHCR_USERNAME, GHCR_TOKEN  ghcr.io push identity (the token goes in as a secret, on stdin); in
#                              general the variables `steps.ts push-credentials` names
#   RUNNER_TEMP
#   PULUMI_STACK               stack; defaults to prod. The rehearsal uses its local stack.
set -euo pipefail
# shellcheck source=scripts/release/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

stack="${PULUMI_STACK:-prod}"
version="${RELEASE_VERSION:-${GITHUB_REF_NAME:?}}"
: "${GITHUB_SHA:?}" "${PULUMI_BACKEND_URL:?}" "${RUNNER_TEMP:?}"
commit_time="${COMMIT_TIME:-$(git show -s --format=%cI "${GITHUB_SHA}")}"

# No `pulumi login`/`stack select`: PULUMI_BACKEND_URL and --stack say it all, and nothing is
# written to the user's Pulumi credentials or workspace files.
set_config() { pulumi config set --stack "${stack}" "$@"; }
set_config version "${version}"
set_config commit "${GITHUB_SHA}"
set_config commitTime "${commit_time}"
if [[ -n "${RELEASED_VERSIONS:-}" ]]; then set_config releasedVersions "${RELEASED_VERSIONS}"; fi
# The variable is the one place a rollback is asked for (a re-run checks out the old tag's commit,
# so a committed value could never reach it); unset means none, whatever the file says.
if [[ -n "${ROLLBACK_TO:-}" ]]; then
	set_config rollbackTo "${ROLLBACK_TO}"
	printf '::warning::%s\n' "ROLLBACK_TO=${ROLLBACK_TO} is set: a release run of exactly that version moves latest and its vX.Y back onto its images; any other release ignores it (and may move them forward again). Remove the variable once the rollback is done (docs/release.md, Rollback)." >&2
else
	pulumi config rm --stack "${stack}" rollbackTo
fi
# Only the exact-tag guard sets it (exact-tags.sh, after this script, in release runs).
pulumi config rm --stack "${stack}" reusePlatformDigests
# Push credentials of the registries that take them from config (lib/imageRegistries.ts), from
# the variables the workflow sets; the password from stdin, so it never appears in a process list
# or the log.
while read -r username_key username_env password_key password_env; do
	[[ -n "${!password_env:-}" ]] || continue
	set_config "${username_key}" "${!username_env:?${username_env} is not set}"
	printf '%s' "${!password_env}" | set_config --secret "${password_key}"
done < <(steps push-credentials)

# The policy allows pushes to the registries this stack's config enables, and nowhere else
# (lib/imageRegistries.ts; the config is validated as the program would).
pulumi config --stack "${stack}" --json >"${RUNNER_TEMP}/stack-config.json"
steps policy-config --file "${RUNNER_TEMP}/stack-config.json" >"${RUNNER_TEMP}/policy-config.json"
rm -f "${RUNNER_TEMP}/stack-config.json"
log "stack ${stack}: version=${version} commit=${GITHUB_SHA} commitTime=${commit_time} releasedVersions=${RELEASED_VERSIONS:-<unchanged>} rollbackTo=${ROLLBACK_TO:-<none>}"
