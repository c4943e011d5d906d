#!/usr/bin/env bash
# Docker Hub pulls go through Google's mirror, DOCKER_HUB_MIRROR of toolchain/versions.env
# (docs/release.md, "Docker Hub rate limits"), the two ways Google and Docker document it:
#   - the runner's Docker daemon gets it as `registry-mirrors` (the images setup-qemu-action and
#     setup-buildx-action pull): /etc/docker/daemon.json merged, the daemon restarted, checked;
#   - BuildKit gets a buildkitd.toml with it as the mirror of docker.io (the Dockerfile's FROM):
#     its path goes to GITHUB_OUTPUT as `buildkitd-config`, for setup-buildx-action's input.
# Both fall back to Docker Hub when the mirror lacks an image. Every image stays pinned by
# digest, and a digest names the bytes: the mirror serves the same image or the pull fails.
# Runs on GitHub-hosted runners only (it restarts the Docker daemon): refuses elsewhere.
# Reads GITHUB_ACTIONS, RUNNER_TEMP, GITHUB_OUTPUT; DOCKER_DAEMON_CONFIG (default
# /etc/docker/daemon.json).
set -euo pipefail
# shellcheck source=scripts/release/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

[[ "${GITHUB_ACTIONS:-}" == "true" ]] ||
	fail "docker-hub-mirror.sh reconfigures and restarts the Docker daemon; it runs on GitHub-hosted runners only"
: "${RUNNER_TEMP:?}" "${GITHUB_OUTPUT:?}"
mirror="$(sed -n 's/^DOCKER_HUB_MIRROR=//p' toolchain/versions.env)"
[[ "${mirror}" =~ ^[a-z0-9.-]+$ ]] || fail "toolchain/versions.env: DOCKER_HUB_MIRROR '${mirror}' is not a host name"
config="${DOCKER_DAEMON_CONFIG:-/etc/docker/daemon.json}"

# The daemon: the mirror first, whatever else the runner's configuration holds kept as it is.
current='{}'
if sudo test -s "${config}"; then current="$(sudo cat "${config}")"; fi
merged="$(mktemp)"
trap 'rm -f "${merged}"' EXIT
jq --arg m "https://${mirror}" '."registry-mirrors" = ([$m] + ((."registry-mirrors" // []) - [$m]))' \
	<<<"${current}" >"${merged}" || fail "${config} is not a JSON object"
sudo install -D -m 0644 "${merged}" "${config}"
sudo systemctl restart docker || fail "could not restart the Docker daemon (systemctl restart docker)"
for _ in $(seq 60); do
	docker info >/dev/null 2>&1 && break
	sleep 1
done
mirrors="$(docker info --format '{{json .RegistryConfig.Mirrors}}')" ||
	fail "the Docker daemon did not come back after its restart"
[[ "${mirrors}" == *"https://${mirror}"* ]] ||
	fail "the Docker daemon's registry mirrors are ${mirrors}, without https://${mirror} (${config})"
log "Docker daemon: registry mirrors ${mirrors}"

# BuildKit: the same mirror for docker.io.
toml="${RUNNER_TEMP}/buildkitd.toml"
printf '[registry."docker.io"]\n  mirrors = ["%s"]\n' "${mirror}" >"${toml}"
echo "buildkitd-config=${toml}" >>"${GITHUB_OUTPUT}"
log "BuildKit: docker.io through ${mirror} (${toml})"
