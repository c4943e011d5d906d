#!/usr/bin/env bash
# Installs the offline rehearsal toolchain, idempotently, into a cache outside the repository:
#   - Debian packages: Docker Engine, the distribution registry, qemu-user-static, runc, ...
#   - from Go modules (wrapper modules in toolchain/<tool>/, pinned by their go.sum), the tools
#     asked for: buildkit (buildkitd + buildctl), s3 (the gofakes3 emulator), pulumi (the CLI),
#     docker-build (the provider plugin; implies pulumi, which installs it), cloudquery (the CLI),
#     cosign and syft (release rehearsal and bench: signatures, SBOMs);
#   - configuration: a buildx "remote" builder named `local`, buildkitd.toml, the registry's TLS.
# Each entry point asks for what it runs, by tool or by profile, so a fresh machine builds no
# more than that (cosign and syft are ≈ 8 of the ≈ 25 cold minutes):
#   local    buildkit s3 pulumi docker-build   local:up/preview/destroy, test:faults, test:history
#   e2e      local + cloudquery                test:e2e (the sync test runs the CloudQuery CLI)
#   release  local + cloudquery cosign syft    rehearse:release (its Hub step publishes with the CLI), bench
#   all      every tool (the default)          npm run toolchain, test:all, CI
# Re-running reuses everything already built (one stamp per tool, version and inputs).
# Usage: bash scripts/toolchain.sh [PROFILE|TOOL]...    (then: source scripts/env.sh)
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

# install_apt: installs the missing APT_PACKAGES. An entry `package:command` counts as present
# when the command is on PATH (or in /usr/sbin), whichever package provides it.
install_apt() {
	local missing=() entry pkg cmd
	# shellcheck disable=SC2086 # APT_PACKAGES is a space-separated list
	for entry in ${APT_PACKAGES}; do
		pkg="${entry%%:*}"
		cmd="${entry#*:}"
		if dpkg-query -W -f='${Status}' "${pkg}" 2>/dev/null | grep -q 'install ok installed'; then
			continue
		fi
		if [[ "${cmd}" != "${entry}" ]] && PATH="${PATH}:/usr/sbin:/sbin" command -v "${cmd}" >/dev/null; then
			log "apt: ${pkg} not installed, but ${cmd} is ($(PATH="${PATH}:/usr/sbin:/sbin" command -v "${cmd}")): using that"
			continue
		fi
		missing+=("${pkg}")
	done
	if ((${#missing[@]} == 0)); then
		log "apt: all present"
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

# build_go NAME DIR VERSION LDFLAGS "MODULE..." PKG=OUT...: builds the packages of wrapper module
# DIR into ${BIN}/OUT unless a stamp for exactly these inputs exists. Before building, each MODULE
# must be selected at VERSION (check_pin); a stamp is made only after that check, for the same
# VERSION and go.mod/go.sum, so a cached tool needs no check (nor the module graph it reads).
build_go() {
	local name="$1" wrapper="$2" dir="${ROOT}/toolchain/$2" version="$3" ldflags="$4" modules="$5"
	shift 5
	local key stamp pair module outs=()
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
	for module in ${modules}; do check_pin "${wrapper}" "${module}" "${version}"; done
	log "${name} ${version}: building (go $(go env GOVERSION))"
	for pair in "$@"; do
		(cd "${dir}" && GOFLAGS="-mod=readonly -buildvcs=false" "${NICE[@]}" \
			go build -trimpath -ldflags "-s -w ${ldflags}" -o "${BIN}/${pair#*=}.tmp" "${pair%%=*}")
		mv -f "${BIN}/${pair#*=}.tmp" "${BIN}/${pair#*=}"
	done
	rm -f "${STAMPS}/${name}@"*
	touch "${stamp}"
}

# install_TOOL: one per tool of TOOLS (named as its wrapper module's directory, `-` as `_`).
install_pulumi() {
	build_go pulumi pulumi "v${PULUMI_VERSION}" \
		"-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v${PULUMI_VERSION}" \
		"github.com/pulumi/pulumi/pkg/v3 github.com/pulumi/pulumi/sdk/v3" \
		"github.com/pulumi/pulumi/pkg/v3/cmd/pulumi=pulumi"
	# Where @pulumi/pulumi's automation API (PulumiCommand.install) looks for this version.
	local versioned="${PULUMI_HOME}/versions/${PULUMI_VERSION}/bin"
	mkdir -p "${versioned}"
	ln -sfn "${BIN}/pulumi" "${versioned}/pulumi"
	local got
	got="$("${BIN}/pulumi" version)"
	[[ "${got}" == "v${PULUMI_VERSION}" ]] || die "pulumi version says ${got}, want v${PULUMI_VERSION}"
}

# After install_pulumi (TOOLS' order): the plugin is installed by that CLI.
install_docker_build() {
	build_go docker-build docker-build "v${DOCKER_BUILD_VERSION}" \
		"-X github.com/pulumi/pulumi-docker-build/provider.Version=${DOCKER_BUILD_VERSION}" \
		"github.com/pulumi/pulumi-docker-build" \
		"github.com/pulumi/pulumi-docker-build/provider/cmd/pulumi-resource-docker-build=../libexec/pulumi-resource-docker-build"
	local installed="${PULUMI_HOME}/plugins/resource-docker-build-v${DOCKER_BUILD_VERSION}/pulumi-resource-docker-build"
	# Kept off PATH (libexec), so the engine uses the installed plugin, not a PATH lookup.
	local built="${CQ_TOOLCHAIN_DIR}/libexec/pulumi-resource-docker-build"
	if [[ -x "${installed}" ]] && cmp -s "${installed}" "${built}"; then
		log "docker-build plugin v${DOCKER_BUILD_VERSION}: installed"
		return
	fi
	"${BIN}/pulumi" plugin install resource docker-build "${DOCKER_BUILD_VERSION}" \
		--reinstall --file "${built}"
}

install_buildkit() {
	build_go buildkit buildkit "${BUILDKIT_VERSION}" \
		"-X github.com/moby/buildkit/version.Version=${BUILDKIT_VERSION}" \
		"github.com/moby/buildkit" \
		"github.com/moby/buildkit/cmd/buildkitd=buildkitd" \
		"github.com/moby/buildkit/cmd/buildctl=buildctl"
}

install_cloudquery() {
	build_go cloudquery cloudquery "${CLOUDQUERY_CLI_VERSION}" \
		"-X github.com/cloudquery/cloudquery/cli/v6/cmd.Version=${CLOUDQUERY_CLI_VERSION#v}" \
		"github.com/cloudquery/cloudquery/cli/v6" \
		"github.com/cloudquery/cloudquery/cli/v6=cloudquery"
}

install_cosign() {
	build_go cosign cosign "${COSIGN_VERSION}" \
		"-X sigs.k8s.io/release-utils/version.gitVersion=${COSIGN_VERSION}" \
		"github.com/sigstore/cosign/v3" \
		"github.com/sigstore/cosign/v3/cmd/cosign=cosign"
}

install_syft() {
	build_go syft syft "${SYFT_VERSION}" "-X main.version=${SYFT_VERSION#v}" \
		"github.com/anchore/syft" \
		"github.com/anchore/syft/cmd/syft=syft"
}

install_s3() {
	build_go gofakes3 s3 "${GOFAKES3_VERSION}" "" \
		"github.com/johannesboyne/gofakes3" \
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

# make_tls: a CA and a certificate for the registry on 127.0.0.1, made once. The registry must
# speak TLS: docker-build reads an Index back with a registry client that always uses https for
# a host:port address (an http registry fails with "server gave HTTP response to HTTPS client").
# The CA key is deleted after signing, so nothing else can ever be issued under this CA.
make_tls() {
	local dir="${ETC}/tls" ext
	if [[ -s "${dir}/registry.crt" && -s "${dir}/registry.key" && -s "${CQ_REGISTRY_CA}" ]] &&
		openssl x509 -checkend 2592000 -noout -in "${dir}/registry.crt" >/dev/null &&
		openssl verify -CAfile "${CQ_REGISTRY_CA}" "${dir}/registry.crt" >/dev/null 2>&1; then
		log "tls: registry certificate valid"
		return
	fi
	local host="${CQ_REGISTRY%:*}"
	rm -rf "${dir}"
	mkdir -p "${dir}" "$(dirname "${CQ_REGISTRY_CA}")"
	chmod 0700 "${dir}"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
		-subj "/CN=cq-source-s3 rehearsal local CA" \
		-addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
		-addext "keyUsage=critical,keyCertSign,cRLSign" \
		-keyout "${dir}/ca.key" -out "${CQ_REGISTRY_CA}" 2>/dev/null
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=${host}" \
		-keyout "${dir}/registry.key" -out "${dir}/registry.csr" 2>/dev/null
	ext="${dir}/ext.cnf"
	printf 'subjectAltName=IP:%s,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=critical,CA:FALSE\n' \
		"${host}" >"${ext}"
	openssl x509 -req -in "${dir}/registry.csr" -CA "${CQ_REGISTRY_CA}" -CAkey "${dir}/ca.key" \
		-set_serial "0x$(openssl rand -hex 16)" -days 825 -extfile "${ext}" -out "${dir}/registry.crt" 2>/dev/null
	rm -f "${dir}/ca.key" "${dir}/registry.csr" "${dir}/ext.cnf"
	chmod 0600 "${dir}/registry.key"
	chmod 0644 "${CQ_REGISTRY_CA}" "${dir}/registry.crt"
	log "tls: new CA ${CQ_REGISTRY_CA} and registry certificate for ${host}"
}

configure() {
	make_tls
	# Both platforms are built by cross-compiling, so buildkitd advertises arm64 without
	# needing binfmt/qemu for RUN steps.
	write_if_changed "${ETC}/buildkitd.toml" <<EOF
root = "${CQ_DATA_DIR}/buildkit"

[grpc]
  address = ["${BUILDKIT_HOST}"]
  # buildkitd runs as root (through sudo for a non-root user); its socket belongs to the user.
  uid = $(id -u)
  gid = $(id -g)

[worker.oci]
  enabled = true
  platforms = ["linux/amd64", "linux/arm64"]
  gc = true
  # Bounded in bytes: the cache persists across runs, and a VM's disk quota can be far below the
  # size statfs reports, which BuildKit's default percentages are taken of. A cold 2-arch build
  # and its Go caches take ≈ 3 GB.
  reservedSpace = "2GB"
  maxUsedSpace = "8GB"
  minFreeSpace = "10GB"

[worker.containerd]
  enabled = false

# Explicit: BuildKit otherwise assumes plain http for 127.0.0.1.
[registry."${CQ_REGISTRY}"]
  http = false
  ca = ["${CQ_REGISTRY_CA}"]
EOF
	# Two buildx "remote" instances on the same buildkitd. `local` builds: docker-build never
	# tries to create a docker-container builder (which would pull moby/buildkit) when the Image
	# has `builder: {name: "local"}`; it must carry no Files (buildx: "setting config file is not
	# supported for remote driver"). `local-registry` is never driven; it is the current builder
	# (BUILDX_BUILDER, env.sh) only so that buildx's own registry client, which docker-build's
	# Index runs as `imagetools create` on the current builder, reads the registry's TLS settings
	# from its Files (without them buildx talks plain http to 127.0.0.1).
	local toml_b64
	toml_b64="$(base64 -w0 <"${ETC}/buildkitd.toml")"
	write_if_changed "${BUILDX_CONFIG}/instances/local" <<EOF
{"Name":"local","Driver":"remote","Nodes":[{"Name":"local0","Endpoint":"${BUILDKIT_HOST}","Platforms":null,"Flags":null,"DriverOpts":null,"Files":null}],"Dynamic":false}
EOF
	write_if_changed "${BUILDX_CONFIG}/instances/local-registry" <<EOF
{"Name":"local-registry","Driver":"remote","Nodes":[{"Name":"local-registry0","Endpoint":"${BUILDKIT_HOST}","Platforms":null,"Flags":null,"DriverOpts":null,"Files":{"buildkitd.toml":"${toml_b64}"}}],"Dynamic":false}
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
  tls:
    certificate: ${ETC}/tls/registry.crt
    key: ${ETC}/tls/registry.key
EOF
}

# The tools, in build order: what the services need first (buildkitd, the S3 emulator), then the
# engine before its plugin. One at a time: `go build` already keeps both cores busy, and two builds
# side by side were no faster (cold cosign + syft on 2 cores: 317 s one after the other, 325 s
# together, compiling their shared dependencies twice).
TOOLS=(buildkit s3 pulumi docker-build cloudquery cosign syft)
# What every rehearsal runs: the services' binaries (scripts/services.sh), the engine, its provider.
LOCAL_TOOLS=(buildkit s3 pulumi docker-build)

# select_tools PROFILE|TOOL...: sets SELECTED to the tools asked for, in TOOLS' order.
select_tools() {
	local want=() arg tool
	(($#)) || set -- all
	for arg in "$@"; do
		case "${arg}" in
		all) want+=("${TOOLS[@]}") ;;
		local) want+=("${LOCAL_TOOLS[@]}") ;;
		e2e) want+=("${LOCAL_TOOLS[@]}" cloudquery) ;;
		release) want+=("${LOCAL_TOOLS[@]}" cloudquery cosign syft) ;;
		docker-build) want+=(pulumi docker-build) ;;
		*)
			[[ " ${TOOLS[*]} " == *" ${arg} "* ]] ||
				die "unknown tool or profile: ${arg} (profiles: all local e2e release; tools: ${TOOLS[*]})"
			want+=("${arg}")
			;;
		esac
	done
	SELECTED=()
	for tool in "${TOOLS[@]}"; do
		if [[ " ${want[*]} " == *" ${tool} "* ]]; then SELECTED+=("${tool}"); fi
	done
}

main() {
	local t0="${SECONDS}" tool
	select_tools "$@"
	command -v go >/dev/null || die "go is not on PATH"
	mkdir -p "${BIN}" "${CQ_TOOLCHAIN_DIR}/libexec" "${STAMPS}" "${ETC}" "${PULUMI_HOME}"
	rm -f "${BIN}/pulumi-resource-docker-build" # older layout put it on PATH

	check_npm_pin "@pulumi/pulumi" "${PULUMI_VERSION}"
	check_npm_pin "@pulumi/docker-build" "${DOCKER_BUILD_VERSION}"

	log "tools: ${SELECTED[*]}"
	timed apt install_apt
	timed config configure
	for tool in "${SELECTED[@]}"; do timed "${tool}" "install_${tool//-/_}"; done

	log "timings:"
	printf '  %s\n' "${TIMINGS[@]}" >&2
	log "total $((SECONDS - t0))s; binaries in ${BIN}"
	log "next: source scripts/env.sh && bash scripts/services.sh start"
}

main "$@"
