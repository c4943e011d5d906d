# cq-source-s3: a static Go binary on distroless, built for any platform from
# the build host's own platform (no emulation while compiling).
# Build context: plugin/ (infra-only changes never rebuild the image).
#
# Both base images are build args so a mirror registry can be substituted
# (air-gapped users, the offline rehearsal). Defaults are pinned by digest:
#   golang:1.26.8-bookworm — matches the `go` line of plugin/go.mod
#   gcr.io/distroless/static-debian12:nonroot — UID/GID 65532
ARG BUILDER_IMAGE=golang:1.26.8-bookworm@sha256:a688600ca24f8a4d3ca77f95b0dd40704a9fc787c826660eb7ba0b641b8b175d
ARG RUNTIME_IMAGE=gcr.io/distroless/static-debian12:nonroot@sha256:b7bb25d9f7c31d2bdd1982feb4dafcaf137703c7075dbe2febb41c24212b946f

FROM --platform=$BUILDPLATFORM ${BUILDER_IMAGE} AS build
ARG TARGETOS
ARG TARGETARCH
# Optional module mirror; unset means the toolchain default.
ARG GOPROXY
# The builder's Go must satisfy go.mod itself: never download a toolchain mid-build.
ENV CGO_ENABLED=0 GOTOOLCHAIN=local
WORKDIR /src

# Dependencies first: this layer survives source-only changes.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download

# Only what the binary is built from, so the docs (the Hub package's) never invalidate it.
COPY main.go ./
COPY internal ./internal
COPY plugin ./plugin
# Go's module and build caches are safe for concurrent use and keyed by
# GOOS/GOARCH, so both platforms share them (no per-arch cache id needed).
# The link line is the one of the SDK's `package` command (plugin-sdk serve/package.go), and
# GOFLAGS is plugin.GoFlags, which the plugin gives `package` for every target (cqplugin's
# BuildTargets; a Go test checks this line): the flags are hashed into the binary's build ID, so
# only the same build gives the image the Hub package's and the GitHub Release zips' binaries byte
# for byte (the e2e compares them).
ENV GOFLAGS="-trimpath -tags=grpcnotrace"
ARG VERSION=development
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    GOOS="$TARGETOS" GOARCH="$TARGETARCH" \
    go build -o /out/cq-source-s3 -buildmode=exe -ldflags "-s  -w -X github.com/infobloxopen/cq-source-s3/plugin.Version=${VERSION} -X github.com/infobloxopen/cq-source-s3/resources/plugin.Version=${VERSION}" .

# Every other door, from the same stage, toolchain and flags (build with --target dist; the
# stage runs on the build platform): the SDK's own `package` command writes the Hub package
# (package.json, tables.json, docs, spec_json_schema.json, one zip per target: linux, darwin and
# windows), then cmd/release-assets repacks its zips as the GitHub Release's
# cq-source-s3_<os>_<arch>.zip and writes checksums.txt. See docs/release.md, "Every door".
FROM build AS package
ARG VERSION=development
ARG RELEASE_MESSAGE
COPY docs ./docs
COPY cmd ./cmd
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    go run . package -m "${RELEASE_MESSAGE:-cq-source-s3 ${VERSION}}" -D /dist/hub "${VERSION}" /src \
    && go run ./cmd/release-assets /dist/hub /dist/github

FROM scratch AS dist
COPY --from=package /dist /

FROM ${RUNTIME_IMAGE}
COPY --from=build /out/cq-source-s3 /cq-source-s3
USER 65532:65532
EXPOSE 7777
# The CloudQuery CLI replaces CMD with its own `serve ...` arguments, so the
# entrypoint must be the bare binary.
ENTRYPOINT ["/cq-source-s3"]
CMD ["serve", "--address", "[::]:7777"]
