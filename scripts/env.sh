#!/usr/bin/env bash
# Environment of the offline rehearsal: its toolchain (scripts/toolchain.sh), its services and
# their addresses (scripts/services.sh).
#   source scripts/env.sh        exports the variables into the current shell
#   bash scripts/env.sh          prints them as `export K=V` lines (eval "$(bash scripts/env.sh)")
# Every path can be overridden by setting the variable before sourcing.

# Built binaries and their stamps; outside the repository so clones share it.
export CQ_TOOLCHAIN_DIR="${CQ_TOOLCHAIN_DIR:-${HOME}/.cache/cq-release-toolchain}"
# Persistent service data (registry blobs, BuildKit cache, dockerd data-root): kept between
# runs so rebuilds are warm.
export CQ_DATA_DIR="${CQ_DATA_DIR:-${HOME}/.cache/cq-release-data}"
# Sockets, PID files and logs of the services this project starts. Short, because a unix
# socket path must fit in 108 bytes. /run is root's; anyone else (GitHub's `runner`) gets a
# directory of their own.
if [[ -z "${CQ_RUN_DIR:-}" ]]; then
	if [[ "$(id -u)" -eq 0 ]]; then
		CQ_RUN_DIR=/run/cq-rehearsal
	elif [[ -n "${XDG_RUNTIME_DIR:-}" && -d "${XDG_RUNTIME_DIR}" && -w "${XDG_RUNTIME_DIR}" ]]; then
		CQ_RUN_DIR="${XDG_RUNTIME_DIR}/cq-rehearsal"
	else
		CQ_RUN_DIR="/tmp/cq-rehearsal-$(id -u)"
	fi
fi
export CQ_RUN_DIR
export CQ_REGISTRY="${CQ_REGISTRY:-127.0.0.1:5000}"
export CQ_S3_ADDR="${CQ_S3_ADDR:-127.0.0.1:9000}"
# The registry speaks TLS with a certificate from a CA made by toolchain.sh (key discarded).
# Go programs (pulumi's docker-build provider, buildctl, the CloudQuery CLI) trust it through
# SSL_CERT_DIR, which keeps the system roots; curl needs --cacert "${CQ_REGISTRY_CA}".
export CQ_REGISTRY_CA="${CQ_REGISTRY_CA:-${CQ_TOOLCHAIN_DIR}/etc/trust/cq-rehearsal-ca.crt}"
case ":${SSL_CERT_DIR:-}:" in
*":${CQ_REGISTRY_CA%/*}:"*) ;;
*) export SSL_CERT_DIR="${SSL_CERT_DIR:-/etc/ssl/certs}:${CQ_REGISTRY_CA%/*}" ;;
esac
# Debian's docker client; the one usually first on PATH is a different build.
export CQ_DOCKER="${CQ_DOCKER:-/usr/bin/docker}"

export PULUMI_HOME="${PULUMI_HOME:-${HOME}/.pulumi}"
export BUILDX_CONFIG="${BUILDX_CONFIG:-${CQ_TOOLCHAIN_DIR}/buildx}"
# Current buildx builder: what `imagetools create` (docker-build Index) uses; see toolchain.sh.
export BUILDX_BUILDER="${BUILDX_BUILDER:-local-registry}"
export BUILDKIT_HOST="${BUILDKIT_HOST:-unix://${CQ_RUN_DIR}/buildkitd.sock}"
# A Docker daemon that is already there and ours to use (GitHub-hosted runners ship one, and
# `runner` is in the docker group) is reused; otherwise services.sh starts one on our own socket.
# Override with CQ_SYSTEM_DOCKER_SOCK (where to look) or DOCKER_HOST (what to use).
CQ_SYSTEM_DOCKER_SOCK="${CQ_SYSTEM_DOCKER_SOCK:-/var/run/docker.sock}"
if [[ -z "${DOCKER_HOST:-}" ]]; then
	if [[ -S "${CQ_SYSTEM_DOCKER_SOCK}" && -w "${CQ_SYSTEM_DOCKER_SOCK}" && -r "${CQ_SYSTEM_DOCKER_SOCK}" ]]; then
		DOCKER_HOST="unix://${CQ_SYSTEM_DOCKER_SOCK}"
	else
		DOCKER_HOST="unix://${CQ_RUN_DIR}/docker.sock"
	fi
fi
export DOCKER_HOST
# The rehearsal's services, in the order scripts/services.sh starts them (it stops them in
# reverse), each answering at the address above: registry on CQ_REGISTRY (https), s3 on
# CQ_S3_ADDR (http), buildkitd on BUILDKIT_HOST, dockerd on DOCKER_HOST. Not exported (an array).
# shellcheck disable=SC2034 # read by the scripts that source this file
CQ_SERVICES=(registry s3 buildkitd dockerd)
# Offline: never look for CLI updates, never download plugins the local stack does not use.
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
# Lets buildx (inside docker-build) skip pinging a Docker daemon.
export DOCKER_BUILDKIT=1

case ":${PATH}:" in
*":${CQ_TOOLCHAIN_DIR}/bin:"*) ;;
*) export PATH="${CQ_TOOLCHAIN_DIR}/bin:${PATH}" ;;
esac

CQ_ENV_VARS=(CQ_TOOLCHAIN_DIR CQ_DATA_DIR CQ_RUN_DIR CQ_REGISTRY CQ_REGISTRY_CA SSL_CERT_DIR CQ_S3_ADDR CQ_DOCKER
	PULUMI_HOME BUILDX_CONFIG BUILDX_BUILDER BUILDKIT_HOST DOCKER_HOST PULUMI_SKIP_UPDATE_CHECK
	PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION DOCKER_BUILDKIT PATH)

# Executed rather than sourced: print the environment for eval or a CI env file.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
	set -euo pipefail
	for cq_var in "${CQ_ENV_VARS[@]}"; do
		printf 'export %s=%q\n' "${cq_var}" "${!cq_var}"
	done
fi
unset CQ_ENV_VARS
