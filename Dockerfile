# syntax=docker/dockerfile:1
# check=skip=InvalidDefaultArgInFrom
#
# One image recipe for every binary in the workspace:
#
#   docker build --build-arg APP=sql-application -t obi-examples/sql-application .
#
# APP names the crate and its binary (they share the name). It has no default on
# purpose: a forgotten --build-arg fails the build instead of quietly producing
# some other app. That is also why the `InvalidDefaultArgInFrom` check is skipped:
# its warning would fire on every build, because it only sees the empty default.

ARG APP

# --- toolchain --------------------------------------------------------------------
# Dependencies are cached with cargo-chef, not BuildKit cache mounts: CI builds on
# fresh runners and exports its cache with `type=gha`, which stores image layers but
# never the contents of cache mounts. cargo-chef turns "all dependencies compiled"
# into an ordinary layer that survives there (and in any local layer cache), keyed
# on the manifests and Cargo.lock only, so editing app code skips the slow part
# (rdkafka's bundled librdkafka C build above all).
FROM rust:1.95-bookworm AS chef
# protoc: poem-grpc's own build script compiles the health and reflection protos.
# Nothing else is installed: rdkafka's bundled librdkafka builds with the image's
# make and gcc (no cmake, no system librdkafka), and nothing here uses TLS.
# Debian stable only ships security fixes, and pinning an exact package version
# breaks the build as soon as the mirror drops it, hence no version (DL3008).
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends protobuf-compiler \
    && rm -rf /var/lib/apt/lists/*
# cargo-auditable embeds the resolved dependency list in the binary, which is what
# lets the image scanner see our Rust crates, not only the base image's packages.
# It wraps rustc for workspace members only, so the dependencies cooked below stay
# valid for the final build.
RUN cargo install --locked cargo-chef@0.1.78 cargo-auditable@0.7.7
WORKDIR /build
# sqlx checks its queries against the committed `.sqlx/` data, not a live database.
ENV SQLX_OFFLINE=true

# --- recipe: the manifests that decide which dependencies get built ---------------
FROM chef AS planner
ARG APP
COPY . .
# `--bin` leaves out the workspace members this binary does not need, so unrelated
# manifest edits (xtask, the other apps) do not invalidate this app's cache.
RUN cargo chef prepare --recipe-path recipe.json --bin "$APP"

# --- build: dependencies first (cached layer), then the workspace -----------------
FROM chef AS builder
ARG APP
COPY --from=planner /build/recipe.json recipe.json
RUN cargo chef cook --release --locked --recipe-path recipe.json \
        --package "$APP" --bin "$APP"
COPY . .
RUN cargo auditable build --release --locked --package "$APP" --bin "$APP" \
    && install -D -m 0755 "target/release/$APP" "/out/$APP"

# --- runtime ----------------------------------------------------------------------
# distroless/cc: glibc, libgcc_s, libstdc++, CA certificates, tzdata and OpenSSL's
# libraries (unused here), but no shell and no package manager. Rust binaries link
# glibc dynamically; distroless/static would need a musl build, librdkafka's C code
# included. `:nonroot` runs as UID/GID 65532, which the charts' restricted
# securityContext also sets explicitly.
FROM gcr.io/distroless/cc-debian12:nonroot AS runtime
ARG APP
ARG SOURCE=https://github.com/obi-examples/obi-examples
ARG LICENSES=Apache-2.0
LABEL org.opencontainers.image.source="$SOURCE" \
      org.opencontainers.image.licenses="$LICENSES" \
      org.opencontainers.image.title="$APP"
# Root-owned, so the app user cannot change it (the charts also make the whole root
# filesystem read-only).
COPY --from=builder /out/$APP /app/$APP
USER 65532:65532

# --- one final stage per binary ---------------------------------------------------
# The binary keeps its own name (/app/<name>) because that name is what OBI sees:
# the process's comm and executable path, and the default service name outside
# Kubernetes. An exec-form ENTRYPOINT cannot expand ${APP} and distroless has no
# shell for the other form, so each binary names itself here and APP picks the
# stage below. An APP without a stage here fails when `app-<APP>` cannot be pulled.
# EXPOSE documents each app's default port; its configuration can move it.
# BEGIN GENERATED from apps.toml by `cargo xtask charts generate`: one stage per app.
FROM runtime AS app-http-rest-api
EXPOSE 8080
ENTRYPOINT ["/app/http-rest-api"]

FROM runtime AS app-grpc-microservice
EXPOSE 50051
ENTRYPOINT ["/app/grpc-microservice"]

FROM runtime AS app-sql-application
EXPOSE 8081
ENTRYPOINT ["/app/sql-application"]

FROM runtime AS app-redis-cache
EXPOSE 8082
ENTRYPOINT ["/app/redis-cache"]

FROM runtime AS app-kafka-streaming
EXPOSE 8083
ENTRYPOINT ["/app/kafka-streaming"]

FROM runtime AS app-checkout
EXPOSE 8084
ENTRYPOINT ["/app/checkout"]
# END GENERATED

# The helm-test payload: runs its checks and exits; it serves nothing.
FROM runtime AS app-telemetry-check
ENTRYPOINT ["/app/telemetry-check"]

# `app-${APP}` names one of the stages above, not an image to tag (DL3006).
# hadolint ignore=DL3006
FROM app-${APP}
