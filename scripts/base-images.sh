#!/usr/bin/env bash
# Builds substitutes for the two base images the Dockerfile uses (no image can be pulled on
# these machines) and pushes them to the local registry (${CQ_REGISTRY}):
#   runtime  distroless-equivalent `static-debian12:nonroot` for linux/amd64 + linux/arm64:
#            FROM scratch + the files of Debian's base-files, netbase, tzdata, media-types and
#            ca-certificates, /etc/passwd and /etc/group with nonroot 65532, /tmp 1777,
#            /home/nonroot; USER 65532. No shell, no executables at all.
#   builder  linux/amd64 only (the Dockerfile builds FROM --platform=$BUILDPLATFORM): this
#            machine's Go toolchain on a busybox-static userland (RUN needs /bin/sh).
# Their Dockerfiles and the /etc/passwd and /etc/group they add are files in scripts/base-images/
# (runtime/, builder/), as is the smoke test's Go program (smoke/); this script makes the root
# filesystems and drives BuildKit.
# Needs the services (bash scripts/services.sh start). Prints the digest-pinned refs for the
# Dockerfile's RUNTIME_IMAGE and BUILDER_IMAGE build args, and writes them to
# ${CQ_DATA_DIR}/base-images.env for other scripts. Re-running gives the same digests.
# Usage: bash scripts/base-images.sh [--no-smoke]
set -euo pipefail
umask 022

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/env.sh
source "${ROOT}/scripts/env.sh"
FILES="${ROOT}/scripts/base-images"

GOROOT_HOST="$(go env GOROOT)"
GO_VERSION="$(go env GOVERSION)" # e.g. go1.26.8
# The names Pulumi.local.yaml's builderImage/runtimeImage use.
RUNTIME_REPO="${CQ_REGISTRY}/cq-build/distroless-static"
RUNTIME_TAG="nonroot"
BUILDER_REPO="${CQ_REGISTRY}/cq-build/golang"
BUILDER_TAG="local"
RUNTIME_PACKAGES=(base-files netbase tzdata media-types ca-certificates)
# Fixed timestamps make the layers and configs reproducible, so digests are stable.
EPOCH=0

log() { printf '[base-images] %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

WORK="$(mktemp -d)"
trap 'rm -rf "${WORK}"' EXIT

"${CQ_TOOLCHAIN_DIR}/bin/buildctl" --addr "${BUILDKIT_HOST}" --timeout 5 debug workers >/dev/null ||
	die "buildkitd does not answer on ${BUILDKIT_HOST}; run: bash scripts/services.sh start"

# fetch_debs PKG...: downloads the .debs into ${WORK}/debs (apt-get download needs no root).
fetch_debs() {
	mkdir -p "${WORK}/debs"
	# apt downloads as user _apt, which must be able to write there.
	chmod 0755 "${WORK}"
	chmod 0777 "${WORK}/debs"
	(cd "${WORK}/debs" && apt-get download -qq "$@") ||
		die "apt-get download $* failed (run 'apt-get update' once?)"
}

# tar_rootfs DIR OUT [OWNED_PATH UID]: a layer tarball, sorted, fixed mtimes, every file owned
# by 0:0 except OWNED_PATH (and what is under it), owned by UID:UID. Owners come from tar's
# options, not from the disk, so the script needs no root and gives the same bytes as any user.
tar_rootfs() {
	local dir="$1" out="$2" owned="${3:-}" uid="${4:-}"
	# shellcheck disable=SC2054 # the commas belong to --pax-option's value
	local common=(--numeric-owner --sort=name --mtime="@${EPOCH}" --format=posix
		--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime)
	if [[ -z "${owned}" ]]; then
		tar "${common[@]}" --owner=0 --group=0 -C "${dir}" -cf "${out}" .
		return
	fi
	tar "${common[@]}" --owner=0 --group=0 --exclude="./${owned}" -C "${dir}" -cf "${out}" .
	tar "${common[@]}" --owner="${uid}" --group="${uid}" -C "${dir}" -rf "${out}" "./${owned}"
}

build_runtime() {
	local ctx="${WORK}/runtime" rootfs="${WORK}/runtime/rootfs" deb pkg arch
	mkdir -p "${rootfs}"
	fetch_debs "${RUNTIME_PACKAGES[@]}"
	for deb in "${WORK}"/debs/*.deb; do
		dpkg-deb -x "${deb}" "${rootfs}"
		pkg="$(dpkg-deb -f "${deb}" Package)"
		# Package records where distroless keeps them, for image scanners; per platform,
		# since base-files is "Architecture: amd64" in the .deb we unpack for both.
		for arch in amd64 arm64; do
			mkdir -p "${ctx}/status/${arch}"
			dpkg-deb -f "${deb}" Package Version Architecture Maintainer Source Description |
				sed -E "s/^Architecture: (amd64|arm64)$/Architecture: ${arch}/" \
					>"${ctx}/status/${arch}/${pkg}"
		done
	done
	# ca-certificates ships the certificates; its postinst would build the bundle.
	mkdir -p "${rootfs}/etc/ssl/certs"
	find "${rootfs}/usr/share/ca-certificates" -name '*.crt' -print0 | sort -z |
		xargs -0 cat >"${rootfs}/etc/ssl/certs/ca-certificates.crt"
	[[ -s "${rootfs}/etc/ssl/certs/ca-certificates.crt" ]] || die "empty CA bundle"
	# Maintainer scripts never run here: drop what only they would use.
	rm -rf "${rootfs}/usr/sbin" "${rootfs}/usr/share/doc" "${rootfs}/usr/share/man" \
		"${rootfs}/usr/share/lintian" "${rootfs}/etc/ca-certificates.conf.d"

	install -m 0644 "${FILES}/runtime/passwd" "${rootfs}/etc/passwd"
	install -m 0644 "${FILES}/runtime/group" "${rootfs}/etc/group"
	mkdir -p "${rootfs}/tmp" "${rootfs}/root" "${rootfs}/home/nonroot"
	chmod 1777 "${rootfs}/tmp"
	chmod 0700 "${rootfs}/root" "${rootfs}/home/nonroot"

	# The same layer serves both platforms only because it holds no machine code; prove it.
	local elf
	elf="$(find "${rootfs}" -type f -exec file --brief --no-pad {} + | grep -c '^ELF' || true)"
	[[ "${elf}" -eq 0 ]] || die "runtime rootfs contains ${elf} ELF file(s); it must be arch-free"

	tar_rootfs "${rootfs}" "${ctx}/rootfs.tar" home/nonroot 65532
	rm -rf "${rootfs}"
	build "${ctx}" runtime "linux/amd64,linux/arm64" "${RUNTIME_REPO}:${RUNTIME_TAG}"
}

build_builder() {
	local ctx="${WORK}/builder" rootfs="${WORK}/builder/rootfs" tool
	mkdir -p "${rootfs}/bin" "${rootfs}/usr/local" "${rootfs}/etc/ssl/certs" "${rootfs}/tmp" \
		"${rootfs}/go" "${rootfs}/root"
	log "builder: ${GO_VERSION} from ${GOROOT_HOST}"
	fetch_debs busybox-static
	dpkg-deb -x "${WORK}"/debs/busybox-static_*.deb "${WORK}/busybox"
	cp "${WORK}/busybox/bin/busybox" "${rootfs}/bin/busybox"
	for tool in $("${rootfs}/bin/busybox" --list); do
		[[ "${tool}" == busybox ]] || ln -s busybox "${rootfs}/bin/${tool}"
	done
	cp -a "${GOROOT_HOST}" "${rootfs}/usr/local/go"
	# go.env ships GOTOOLCHAIN=local on this machine; the golang images set it too.
	cp /etc/ssl/certs/ca-certificates.crt "${rootfs}/etc/ssl/certs/ca-certificates.crt"
	install -m 0644 "${FILES}/builder/passwd" "${rootfs}/etc/passwd"
	install -m 0644 "${FILES}/builder/group" "${rootfs}/etc/group"
	chmod 1777 "${rootfs}/tmp"
	chmod 0777 "${rootfs}/go"
	tar_rootfs "${rootfs}" "${ctx}/rootfs.tar"
	rm -rf "${rootfs}"
	build "${ctx}" builder "linux/amd64" "${BUILDER_REPO}:${BUILDER_TAG}"
}

# buildkit_build NAME CONTEXT DOCKERFILE_DIR [BUILDCTL_FLAG...]: `buildctl build` of
# DOCKERFILE_DIR/Dockerfile on CONTEXT with the remote BuildKit; the log (${WORK}/NAME.log) is
# shown when it fails.
buildkit_build() {
	local name="$1" ctx="$2" dockerfile="$3"
	shift 3
	"${CQ_TOOLCHAIN_DIR}/bin/buildctl" --addr "${BUILDKIT_HOST}" build --progress plain \
		--frontend dockerfile.v0 --local context="${ctx}" --local dockerfile="${dockerfile}" \
		"$@" >"${WORK}/${name}.log" 2>&1 || {
		tail -n 30 "${WORK}/${name}.log" >&2
		die "${name}: build failed"
	}
}

# build CONTEXT NAME PLATFORMS REF: builds scripts/base-images/NAME/Dockerfile on CONTEXT, pushes,
# records ref@digest.
build() {
	local ctx="$1" name="$2" platforms="$3" ref="$4" metadata="${WORK}/$2.metadata.json" digest
	log "${name}: building ${ref} for ${platforms}"
	buildkit_build "${name}" "${ctx}" "${FILES}/${name}" \
		--opt platform="${platforms}" \
		--opt build-arg:SOURCE_DATE_EPOCH="${EPOCH}" \
		--output "type=image,name=${ref},push=true,rewrite-timestamp=true" \
		--metadata-file "${metadata}"
	digest="$(node -p "require(process.argv[1])['containerimage.digest']" "${metadata}")"
	[[ "${digest}" == sha256:* ]] || die "${name}: no digest in build metadata"
	REFS+=("${name}" "${ref}@${digest}")
}

# smoke_test RUNTIME_REF BUILDER_REF: proves the pair works the way the real Dockerfile uses
# it: a Go program (scripts/base-images/smoke) cross-compiled on the builder for each platform,
# copied onto the runtime, pushed as a two-platform index, which the registry must list; the
# amd64 image must run as 65532 with a usable CA bundle and a writable /tmp.
smoke_test() {
	local ref="${CQ_REGISTRY}/rehearsal/smoke:latest" manifest out
	buildkit_build smoke "${FILES}/smoke" "${FILES}/smoke" \
		--opt platform=linux/amd64,linux/arm64 \
		--opt build-arg:BUILDER_IMAGE="$2" --opt build-arg:RUNTIME_IMAGE="$1" \
		--output "type=image,name=${ref},push=true"
	manifest="$(curl -fsS --cacert "${CQ_REGISTRY_CA}" \
		-H 'Accept: application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json' \
		"https://${CQ_REGISTRY}/v2/rehearsal/smoke/manifests/latest")"
	# shellcheck disable=SC2016 # the backticks are JavaScript
	out="$(node -e '
		const m = JSON.parse(process.argv[1]);
		const p = (m.manifests ?? []).map((d) => `${d.platform?.os}/${d.platform?.architecture}`).sort();
		console.log(p.join(","));' "${manifest}")"
	[[ "${out}" == "linux/amd64,linux/arm64" ]] || die "smoke: index platforms are '${out}'"
	log "smoke: ${ref} index has ${out}"
	"${CQ_DOCKER}" pull -q --platform linux/amd64 "${ref}" >/dev/null
	out="$("${CQ_DOCKER}" run --rm --platform linux/amd64 "${ref}" 2>&1)" ||
		die "smoke: docker run failed: ${out}"
	[[ "${out}" =~ ^ok\ linux/amd64\ uid=65532\ certs=[1-9] ]] || die "smoke: unexpected output: ${out}"
	log "smoke: docker run -> ${out}"
}

main() {
	local t0="${SECONDS}"
	REFS=()
	build_runtime
	build_builder
	local runtime_ref="${REFS[1]}" builder_ref="${REFS[3]}"
	if [[ "${1:-}" != "--no-smoke" ]]; then smoke_test "${runtime_ref}" "${builder_ref}"; fi
	mkdir -p "${CQ_DATA_DIR}"
	printf 'RUNTIME_IMAGE=%s\nBUILDER_IMAGE=%s\n' "${runtime_ref}" "${builder_ref}" \
		>"${CQ_DATA_DIR}/base-images.env"
	log "done in $((SECONDS - t0))s; build args (also in ${CQ_DATA_DIR}/base-images.env):"
	printf 'RUNTIME_IMAGE=%s\nBUILDER_IMAGE=%s\n' "${runtime_ref}" "${builder_ref}"
}

main "$@"
