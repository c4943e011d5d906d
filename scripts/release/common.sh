# Sourced by the release steps (scripts/release/*.sh): repository root as working directory, the
# TypeScript step helper, error reporting as a workflow annotation, and the tag fetch.
# shellcheck shell=bash

RELEASE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "${RELEASE_ROOT}" || exit 1

# fail MESSAGE: a workflow error annotation (plain text outside Actions), then exit 1.
fail() {
	printf '::error::%s\n' "$*" >&2
	exit 1
}

log() { printf '[release] %s\n' "$*" >&2; }

# steps ARGS...: scripts/release/steps.ts (the steps' parsing and decisions, tested in TypeScript).
steps() {
	"${RELEASE_ROOT}/node_modules/.bin/ts-node" --transpile-only "${RELEASE_ROOT}/scripts/release/steps.ts" "$@"
}

# fetch_tags: makes the clone's tags exactly origin's tags at this moment: new ones appear, moved
# ones move (--force), deleted ones disappear (--prune-tags). The checkout keeps no credentials
# (persist-credentials: false); when GIT_FETCH_TOKEN is set (the job's read-only token) it reaches
# this one git command through GIT_CONFIG_* variables, never argv or .git/config.
fetch_tags() {
	local auth=()
	if [[ -n "${GIT_FETCH_TOKEN:-}" ]]; then
		auth=(env GIT_CONFIG_COUNT=1
			"GIT_CONFIG_KEY_0=http.${GITHUB_SERVER_URL:-https://github.com}/.extraheader"
			"GIT_CONFIG_VALUE_0=AUTHORIZATION: basic $(printf 'x-access-token:%s' "${GIT_FETCH_TOKEN}" | base64 -w0)")
	fi
	"${auth[@]}" git fetch --quiet --force --prune --prune-tags --tags origin
}

# stack_outputs: the path of the release's stack outputs, $RUNNER_TEMP/outputs.json (written by
# up.sh in the publish job; in a later job from STACK_OUTPUTS, outputs.sh `json`).
stack_outputs() {
	local file="${RUNNER_TEMP:?}/outputs.json"
	if [[ ! -s "${file}" && -n "${STACK_OUTPUTS:-}" ]]; then printf '%s' "${STACK_OUTPUTS}" >"${file}"; fi
	[[ -s "${file}" ]] || fail "${file} is missing: run outputs.sh first"
	printf '%s' "${file}"
}

# registry_logins: logs cosign (and syft, which reads the same ~/.docker/config.json) in to every
# registry of the stack output `registryLogins` (lib/imageRegistries.ts) whose password variable
# is set in this job; a registry without one is skipped (the github-release job reads ghcr only).
registry_logins() {
	local address username username_env password_env
	while IFS=$'\t' read -r address username username_env password_env; do
		[[ -n "${address}" ]] || continue
		[[ "${password_env}" =~ ^[A-Z][A-Z0-9_]*$ && "${username_env:-X}" =~ ^[A-Z][A-Z0-9_]*$ ]] ||
			fail "registryLogins: bad variable names for ${address}"
		[[ -n "${!password_env:-}" ]] || continue
		if [[ -z "${username}" ]]; then username="${!username_env:?${username_env} is not set (login to ${address})}"; fi
		printf '%s' "${!password_env}" | cosign login "${address}" --username "${username}" --password-stdin
	done < <(jq -r '(.registryLogins // [])[] | [.address, .username // "", .usernameEnv // "", .passwordEnv] | @tsv' "$(stack_outputs)")
}

# cosign_setup: logs in (registry_logins) and sets COSIGN_SIGN_ARGS / COSIGN_VERIFY_ARGS:
#   COSIGN_KEY + COSIGN_PUBLIC_KEY (+ COSIGN_PASSWORD): key mode, the offline rehearsal: sign with
#       the key and a signing config with no services (no Fulcio, no Rekor, no timestamp
#       authority: cosign v3's replacement for --tlog-upload=false), verify with the public key.
#   unset (the workflow): keyless, a Fulcio certificate for the job's GitHub OIDC identity, logged
#       in Rekor, verified against SIGNING_IDENTITY and GitHub's OIDC issuer.
# Reads the registries' credential variables named by registryLogins, SIGNING_IDENTITY.
# shellcheck disable=SC2034 # COSIGN_*_ARGS are read by the scripts that source this file
cosign_setup() {
	registry_logins
	if [[ -n "${COSIGN_KEY:-}" ]]; then
		: "${COSIGN_PUBLIC_KEY:?COSIGN_PUBLIC_KEY is needed to verify a key-mode signature}"
		# cosign still tries to refresh Sigstore's TUF root first and warns when it cannot;
		# nothing else leaves the machine.
		COSIGN_SIGNING_CONFIG="$(mktemp)"
		# shellcheck disable=SC2064 # expand now: the file of this call
		trap "rm -f '${COSIGN_SIGNING_CONFIG}'" EXIT
		cosign signing-config create --out "${COSIGN_SIGNING_CONFIG}"
		COSIGN_SIGN_ARGS=(--key "${COSIGN_KEY}" --signing-config "${COSIGN_SIGNING_CONFIG}")
		COSIGN_VERIFY_ARGS=(--key "${COSIGN_PUBLIC_KEY}" --insecure-ignore-tlog=true)
	else
		: "${SIGNING_IDENTITY:?}"
		COSIGN_SIGN_ARGS=()
		COSIGN_VERIFY_ARGS=(--certificate-identity "${SIGNING_IDENTITY}"
			--certificate-oidc-issuer "$(steps oidc-issuer)")
	fi
}

# provenance_predicate OUTPUTS_JSON: the release's SLSA v1 provenance predicate (steps.ts
# provenance), for the image (evidence.sh) and the dist files (dist-evidence.sh) alike: the
# publish job's pins (toolchain/versions.env, which toolchain.sh checks against package.json and
# the workflows install from); BuildKit is the workflow's driver image (BUILDKIT_VERSION).
provenance_predicate() {
	pin() { sed -n "s/^$1=//p" toolchain/versions.env; }
	steps provenance --file "$1" --dockerfile Dockerfile \
		--tool "pulumi=v$(pin PULUMI_VERSION)" --tool "docker-build=v$(pin DOCKER_BUILD_VERSION)" \
		--tool "buildkit=${BUILDKIT_VERSION:?BUILDKIT_VERSION names the BuildKit that built the image}" \
		--tool "cosign=$(cosign version --json 2>/dev/null | jq -r .gitVersion)" \
		--tool "syft=$(syft version -o json | jq -r .version)" \
		--tool "node=$(node --version)"
}

# image_refs: IMAGE_REFS (outputs.sh `refs`) into the array REFS, each checked to be
# <repository>@sha256:<digest> — never a tag: only ever sign or attest a digest.
image_refs() {
	read -ra REFS <<<"${IMAGE_REFS:-}"
	((${#REFS[@]} > 0)) || fail "IMAGE_REFS lists no image"
	local ref
	for ref in "${REFS[@]}"; do
		[[ "${ref}" =~ ^[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)+@sha256:[0-9a-f]{64}$ ]] ||
			fail "refusing ${ref}: not <repository>@sha256:<digest>"
	done
}
