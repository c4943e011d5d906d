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

COPY . .
# Go's module and build caches are safe for concurrent use and keyed by
# GOOS/GOARCH, so both platforms share them (no per-arch cache id needed).
ARG VERSION=development
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    GOOS="$TARGETOS" GOARCH="$TARGETARCH" \
    go build -trimpath -ldflags "-s -w -X main.Version=${VERSION}" -o /out/cq-source-s3 .

FROM ${RUNTIME_IMAGE}
COPY --from=build /out/cq-source-s3 /cq-source-s3
USER 65532:65532
EXPOSE 7777
# The CloudQuery CLI replaces CMD with its own `serve ...` arguments, so the
# entrypoint must be the bare binary.
ENTRYPOINT ["/cq-source-s3"]
CMD ["serve", "--address", "[::]:7777"]
