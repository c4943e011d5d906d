#!/usr/bin/env bash
# Installs the offline rehearsal toolchain, idempotently, into a cache outside the repository:
#   - Debian packages: Docker Engine, the distribution registry, qemu-user-static, runc, ...
#   - from Go modules (wrapper modules in toolchain/, pinned by their go.sum):
#     the Pulumi CLI, the docker-build provider plugin, buildkitd + buildctl,
#     the CloudQuery CLI, the gofakes3 S3 emulator;
#   - configuration: a buildx "remote" builder named `local`, buildkitd.toml.
# Re-running reuses everything already built (one stamp per tool, version and inputs).
# Usage: bash scripts/toolchain.sh        (then: source scripts/env.sh)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/env.sh
source "${ROOT}/scripts/env.sh"
# shellcheck source=toolchain/versions.env
source "${ROOT}/toolchain/versions.env"

BIN="${CQ_TOOLCHAIN_DIR}/bin"
STAMPS="${CQ_TOOLCHAIN_DIR}/stamps"
ETC="${CQ_TOOLCHAIN_DIR}/etc"
# Go builds share 2 CPUs with everything else on these machines.
NICE=(nice -n 10)
TIMINGS=()

log() { printf '[toolchain] %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

# timed NAME CMD...: runs CMD and records how long it took.
timed() {
	local name="$1" t0="${SECONDS}"
	shift
	"$@"
	TIMINGS+=("$(printf '%-16s %5ds' "${name}" "$((SECONDS - t0))")")
}

as_root() {
	if [[ "$(id -u)" -eq 0 ]]; then
		"$@"
	elif command -v sudo >/dev/null; then
		sudo "$@"
	else
		die "need root for: $*"
	fi
}

install_apt() {
	local missing=() pkg
	# shellcheck disable=SC2086 # APT_PACKAGES is a space-separated list
	for pkg in ${APT_PACKAGES}; do
		if ! dpkg-query -W -f='${Status}' "${pkg}" 2>/dev/null | grep -q 'install ok installed'; then
			missing+=("${pkg}")
		fi
	done
	if ((${#missing[@]} == 0)); then
		log "apt: all present (${APT_PACKAGES})"
		return
	fi
	log "apt: installing ${missing[*]}"
	as_root apt-get update -qq
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# check_pin DIR MODULE WANT: the wrapper module must select the version versions.env names.
check_pin() {
	local dir="$1" module="$2" want="$3" got
	got="$(cd "${ROOT}/toolchain/${dir}" && GOFLAGS=-mod=readonly go list -m -f '{{.Version}}' "${module}")"
	[[ "${got}" == "${want}" ]] ||
		die "toolchain/${dir}/go.mod selects ${module} ${got}, but toolchain/versions.env says ${want}"
}

# check_npm_pin PACKAGE WANT: the CLI/plugin must match the npm SDK the program uses.
check_npm_pin() {
	local pkg="$1" want="$2" got
	got="$(node -p "require(process.argv[1]).dependencies[process.argv[2]] ?? ''" "${ROOT}/package.json" "${pkg}")"
	[[ "${got}" == "${want}" ]] ||
		die "package.json pins ${pkg} ${got:-<missing>}, but toolchain/versions.env builds ${want}"
}

# build_go NAME DIR VERSION LDFLAGS PKG=OUT...: builds the packages of wrapper module DIR
# into ${BIN}/OUT unless a stamp for exactly these inputs exists.
build_go() {
	local name="$1" dir="${ROOT}/toolchain/$2" version="$3" ldflags="$4"
	shift 4
	local key stamp pair outs=()
	key="$(
		cat "${dir}/go.mod" "${dir}/go.sum"
		find "${dir}" -name '*.go' -print0 | sort -z | xargs -0r cat
		printf '%s\n%s\n%s\n' "${ldflags}" "$(go env GOVERSION)" "$*"
	)"
	key="$(printf '%s' "${key}" | sha256sum | cut -c1-12)"
	stamp="${STAMPS}/${name}@${version}-${key}"
	for pair in "$@"; do outs+=("${BIN}/${pair#*=}"); done
	if [[ -f "${stamp}" ]] && ls "${outs[@]}" >/dev/null 2>&1; then
		log "${name} ${version}: cached"
		return
	fi
	log "${name} ${version}: building (go $(go env GOVERSION))"
	for pair in "$@"; do
		(cd "${dir}" && GOFLAGS="-mod=readonly -buildvcs=false" "${NICE[@]}" \
			go build -trimpath -ldflags "-s -w ${ldflags}" -o "${BIN}/${pair#*=}.tmp" "${pair%%=*}")
		mv -f "${BIN}/${pair#*=}.tmp" "${BIN}/${pair#*=}"
	done
	rm -f "${STAMPS}/${name}@"*
	touch "${stamp}"
}

install_pulumi() {
	build_go pulumi pulumi "v${PULUMI_VERSION}" \
		"-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v${PULUMI_VERSION}" \
		"github.com/pulumi/pulumi/pkg/v3/cmd/pulumi=pulumi"
	# Where @pulumi/pulumi's automation API (PulumiCommand.install) looks for this version.
	local versioned="${PULUMI_HOME}/versions/${PULUMI_VERSION}/bin"
	mkdir -p "${versioned}"
	ln -sfn "${BIN}/pulumi" "${versioned}/pulumi"
	local got
	got="$("${BIN}/pulumi" version)"
	[[ "${got}" == "v${PULUMI_VERSION}" ]] || die "pulumi version says ${got}, want v${PULUMI_VERSION}"
}

install_docker_build() {
	build_go docker-build docker-build "v${DOCKER_BUILD_VERSION}" \
		"-X github.com/pulumi/pulumi-docker-build/provider.Version=${DOCKER_BUILD_VERSION}" \
		"github.com/pulumi/pulumi-docker-build/provider/cmd/pulumi-resource-docker-build=pulumi-resource-docker-build"
	local installed="${PULUMI_HOME}/plugins/resource-docker-build-v${DOCKER_BUILD_VERSION}/pulumi-resource-docker-build"
	if [[ -x "${installed}" ]] && cmp -s "${installed}" "${BIN}/pulumi-resource-docker-build"; then
		log "docker-build plugin v${DOCKER_BUILD_VERSION}: installed"
		return
	fi
	"${BIN}/pulumi" plugin install resource docker-build "${DOCKER_BUILD_VERSION}" \
		--reinstall --file "${BIN}/pulumi-resource-docker-build"
}

install_buildkit() {
	build_go buildkit buildkit "${BUILDKIT_VERSION}" \
		"-X github.com/moby/buildkit/version.Version=${BUILDKIT_VERSION}" \
		"github.com/moby/buildkit/cmd/buildkitd=buildkitd" \
		"github.com/moby/buildkit/cmd/buildctl=buildctl"
}

install_cloudquery() {
	build_go cloudquery cloudquery "${CLOUDQUERY_CLI_VERSION}" \
		"-X github.com/cloudquery/cloudquery/cli/v6/cmd.Version=${CLOUDQUERY_CLI_VERSION#v}" \
		"github.com/cloudquery/cloudquery/cli/v6=cloudquery"
}

install_s3() {
	build_go gofakes3 s3 "${GOFAKES3_VERSION}" "" \
		"github.com/johannesboyne/gofakes3/cmd/gofakes3=gofakes3"
}

# write_if_changed FILE: stdin becomes FILE unless FILE already has that content.
write_if_changed() {
	local file="$1" tmp
	tmp="$(mktemp)"
	cat >"${tmp}"
	if cmp -s "${tmp}" "${file}" 2>/dev/null; then
		rm -f "${tmp}"
	else
		mkdir -p "$(dirname "${file}")"
		mv -f "${tmp}" "${file}"
		chmod 0644 "${file}"
		log "wrote ${file}"
	fi
}

configure() {
	# The local registry speaks plain http; both platforms are built by cross-compiling,
	# so buildkitd advertises arm64 without needing binfmt/qemu for RUN steps.
	write_if_changed "${ETC}/buildkitd.toml" <<EOF
root = "${CQ_DATA_DIR}/buildkit"

[grpc]
  address = ["${BUILDKIT_HOST}"]

[worker.oci]
  enabled = true
  platforms = ["linux/amd64", "linux/arm64"]
  gc = true

[worker.containerd]
  enabled = false

[registry."${CQ_REGISTRY}"]
  http = true
  insecure = true
EOF
	# A buildx "remote" builder: docker-build never tries to create a docker-container one
	# (which would pull moby/buildkit) when `builder: {name: "local"}` is set.
	write_if_changed "${BUILDX_CONFIG}/instances/local" <<EOF
{"Name":"local","Driver":"remote","Nodes":[{"Name":"local0","Endpoint":"${BUILDKIT_HOST}","Platforms":null,"Flags":null,"DriverOpts":null,"Files":null}],"Dynamic":false}
EOF
	write_if_changed "${ETC}/registry.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: ${CQ_DATA_DIR}/registry
  delete:
    enabled: true
http:
  addr: ${CQ_REGISTRY}
EOF
}

main() {
	local t0="${SECONDS}"
	command -v go >/dev/null || die "go is not on PATH"
	mkdir -p "${BIN}" "${STAMPS}" "${ETC}" "${PULUMI_HOME}"

	check_npm_pin "@pulumi/pulumi" "${PULUMI_VERSION}"
	check_npm_pin "@pulumi/docker-build" "${DOCKER_BUILD_VERSION}"
	check_pin pulumi github.com/pulumi/pulumi/pkg/v3 "v${PULUMI_VERSION}"
	check_pin pulumi github.com/pulumi/pulumi/sdk/v3 "v${PULUMI_VERSION}"
	check_pin docker-build github.com/pulumi/pulumi-docker-build "v${DOCKER_BUILD_VERSION}"
	check_pin buildkit github.com/moby/buildkit "${BUILDKIT_VERSION}"
	check_pin cloudquery github.com/cloudquery/cloudquery/cli/v6 "${CLOUDQUERY_CLI_VERSION}"
	check_pin s3 github.com/johannesboyne/gofakes3 "${GOFAKES3_VERSION}"

	timed apt install_apt
	timed config configure
	# What the services need first, so they can be started while the rest builds.
	timed buildkit install_buildkit
	timed gofakes3 install_s3
	timed pulumi install_pulumi
	timed docker-build install_docker_build
	timed cloudquery install_cloudquery

	log "timings:"
	printf '  %s\n' "${TIMINGS[@]}" >&2
	log "total $((SECONDS - t0))s; binaries in ${BIN}"
	log "next: source scripts/env.sh && bash scripts/services.sh start"
}

main "$@"
