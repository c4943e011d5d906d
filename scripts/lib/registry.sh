# The rehearsal registry (https://$CQ_REGISTRY, CA $CQ_REGISTRY_CA; scripts/env.sh) through its
# HTTP API with curl, for the shell scripts of a rehearsal session (scripts/lib/registry.ts is the
# TypeScript side):
#   registry_tags REPO         every tag of REPO, sorted; nothing when REPO does not exist
#   registry_digest REPO TAG   the digest the registry serves for REPO:TAG
#   registry_manifest REPO TAG the manifest (or index) itself, JSON
#   registry_snapshot REPO     "tag digest" per tag: what "nothing moved" compares
#   registry_delete REPO TAG DIGEST
#                              deletes the manifest DIGEST (TAG only names it in the message),
#                              and every tag naming it; one that is gone already is fine
#   registry_reset REPO        deletes every manifest a tag names, except the build cache's
#                              (buildcache-*): REPO starts without releases. A rehearsal's commits
#                              are the same every run, so the release's exact-tag guard would
#                              otherwise meet the previous run's releases (the registry allows
#                              deletes: scripts/toolchain.sh)
# shellcheck shell=bash

REGISTRY_ACCEPT=(-H 'Accept: application/vnd.oci.image.index.v1+json'
	-H 'Accept: application/vnd.docker.distribution.manifest.list.v2+json'
	-H 'Accept: application/vnd.oci.image.manifest.v1+json'
	-H 'Accept: application/vnd.docker.distribution.manifest.v2+json')

registry_tags() {
	curl -sS --cacert "${CQ_REGISTRY_CA:?}" "https://${CQ_REGISTRY:?}/v2/$1/tags/list?n=10000" |
		jq -r '(.tags // [])[]' | sort
}

registry_digest() {
	curl -fsS --cacert "${CQ_REGISTRY_CA:?}" -o /dev/null -w '%header{docker-content-digest}' \
		"${REGISTRY_ACCEPT[@]}" "https://${CQ_REGISTRY:?}/v2/$1/manifests/$2"
}

registry_manifest() {
	curl -fsS --cacert "${CQ_REGISTRY_CA:?}" "${REGISTRY_ACCEPT[@]}" "https://${CQ_REGISTRY:?}/v2/$1/manifests/$2"
}

registry_snapshot() {
	local t
	for t in $(registry_tags "$1"); do printf '%s %s\n' "${t}" "$(registry_digest "$1" "${t}")"; done
}

registry_delete() {
	local code
	code="$(curl -sS --cacert "${CQ_REGISTRY_CA:?}" -o /dev/null -w '%{http_code}' -X DELETE \
		"https://${CQ_REGISTRY:?}/v2/$1/manifests/$3")"
	# 404: deleted already, through another tag of the same manifest.
	if [[ "${code}" != 202 && "${code}" != 404 ]]; then
		printf 'registry_delete: DELETE %s@%s (%s): HTTP %s\n' "$1" "$3" "$2" "${code}" >&2
		return 1
	fi
}

registry_reset() {
	local tag digest snapshot
	# Digests first: deleting a manifest takes every tag naming it along. The snapshot is whole
	# before the first delete (streamed, its later lookups would 404 on tags deleted meanwhile).
	snapshot="$(registry_snapshot "$1")" || return 1
	while read -r tag digest; do
		[[ -n "${tag}" ]] || continue
		[[ "${tag}" == buildcache-* ]] && continue
		registry_delete "$1" "${tag}" "${digest}" || return 1
	done <<<"${snapshot}"
	if registry_tags "$1" | grep -qv '^buildcache-'; then
		printf 'registry_reset: %s still has release tags\n' "$1" >&2
		return 1
	fi
}
