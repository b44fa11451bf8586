# syntax=docker/dockerfile:1
# check=skip=InvalidDefaultArgInFrom
#
# One image recipe for every binary in the workspace, on GitHub and locally:
#
#   docker build --build-arg APP=sql-application -t obi-examples/sql-application .
#   cargo xtask images build sql-application     # podman, bases made from Debian packages
#
# APP names the crate under apps/ and its binary (they share the name). It has no
# default on purpose: a forgotten --build-arg fails the build instead of quietly
# producing some other app. That is also why the `InvalidDefaultArgInFrom` check is
# skipped: its warning would fire on every build, because it only sees the empty
# default.
#
# The base images are build arguments. The defaults are the public images GitHub
# pulls; `cargo xtask images build` passes bases it makes from Debian packages with
# mmdebstrap (no image registry is reachable from our machines), with the same
# Debian release, the same Rust toolchain and the same layout (docs/images.md).
ARG APP
ARG BUILDER_IMAGE=rust:1.95-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/cc-debian12:nonroot

# --- toolchain --------------------------------------------------------------------
# Dependencies are cached with cargo-chef, not BuildKit cache mounts: CI builds on
# fresh runners and exports its cache with `type=gha`, which stores image layers but
# never the contents of cache mounts. cargo-chef turns "all dependencies compiled"
# into an ordinary layer that survives there and in podman's layer cache alike.
FROM ${BUILDER_IMAGE} AS chef
# protoc: poem-grpc's own build script compiles the health and reflection protos.
# The local builder base has it already; the public rust image gets it here.
# Nothing else is installed: rdkafka's bundled librdkafka builds with make, gcc and
# g++ (its configure insists on a C++ compiler), all in both bases; no cmake, no
# system librdkafka, and nothing here uses TLS. Debian stable only
# ships security fixes, and pinning an exact package version breaks the build as
# soon as the mirror drops it, hence no version (DL3008).
# hadolint ignore=DL3008
RUN command -v protoc >/dev/null \
    || { apt-get update \
         && apt-get install -y --no-install-recommends protobuf-compiler \
         && rm -rf /var/lib/apt/lists/*; }
# cargo-auditable embeds the resolved dependency list in the binary, which is what
# lets an image scanner or SBOM tool see our Rust crates, not only the base image's
# packages. It wraps rustc for workspace members only, so the dependencies cooked
# below stay valid for the final build.
RUN cargo install --locked cargo-chef@0.1.78 cargo-auditable@0.7.7
WORKDIR /build
# No query is checked at compile time (sql-application's queries are plain strings;
# only its migrations are embedded), so there is no `.sqlx/` data. Offline mode
# makes a future `query!` fail here, loudly, instead of looking for a database.
ENV SQLX_OFFLINE=true

# --- recipe: the manifests that decide which dependencies get built ---------------
FROM chef AS planner
# A failing command inside a pipe fails the step (both bases have bash).
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
COPY . .
# The recipe covers the whole workspace, and every crate under apps/ is an image.
# The real manifests are kept aside too: the build stage below puts them over
# cargo-chef's skeleton, whose masked versions would otherwise end up in the
# binaries (and in their embedded dependency lists).
RUN cargo chef prepare --recipe-path recipe.json \
    && ls apps > apps.txt \
    && mkdir /manifests \
    && find . \( -name Cargo.toml -o -name Cargo.lock -o -path './.cargo/*' \) -type f \
        | tar -cf - -T - | tar -xf - -C /manifests

# --- dependencies of every app, compiled once -------------------------------------
# No APP here: all six images share this stage and its cache, so a workspace is
# compiled once for the whole set (locally and in each of GitHub's build jobs).
FROM chef AS dependencies
COPY --from=planner /build/recipe.json /build/apps.txt ./
# One --package per app; the word splitting is intended.
# hadolint ignore=SC2046
RUN cargo chef cook --release --locked --recipe-path recipe.json \
        $(sed 's/^/--package /' apps.txt)

# --- one app: only its own sources and the crate the apps share -------------------
# An edit to one app rebuilds that app alone: the other apps' build stages start
# from the same dependency layer and copy files that did not change. Of crates/,
# only service-kit is linked into the apps (test-support and bench-baselines serve
# tests and benches, and an edit there must not rebuild six images); a crate the
# apps come to depend on is copied here too (xtask's tests check that).
FROM dependencies AS build
ARG APP
COPY --from=planner /manifests/ ./
COPY crates/service-kit/ crates/service-kit/
COPY apps/${APP}/ apps/${APP}/
# The inventory.v1 proto: grpc-microservice serves it, checkout compiles its client from it.
COPY apps/grpc-microservice/proto/ apps/grpc-microservice/proto/
# The same --package list as the cook, and only this app's binary as the target:
# Cargo resolves the dependencies' features over the selected packages, so a
# selection of `--package $APP` alone would enable fewer features than the cook did
# and compile about 70 cooked dependencies again for every image (12 minutes of a
# 13-minute app build, measured). The other apps' sources are cargo-chef's empty
# skeletons here and are not compiled: `--bin` picks this app's target only.
# hadolint ignore=SC2046
RUN test -n "$APP" || { echo "set --build-arg APP=<crate under apps/>" >&2; exit 1; } \
    && cargo auditable build --release --locked $(sed 's/^/--package /' apps.txt) --bin "$APP" \
    && install -D -m 0755 "target/release/$APP" "/out/$APP"

# --- runtime ----------------------------------------------------------------------
# distroless/cc (GitHub) or the local Debian base: glibc and libgcc_s, no shell and
# no package manager. Rust binaries link glibc dynamically; distroless/static would
# need a musl build, librdkafka's C code included. UID/GID 65532 (`nonroot`), which
# the charts' restricted securityContext also sets explicitly.
FROM ${RUNTIME_IMAGE} AS runtime
ARG APP
ARG SOURCE=https://github.com/obi-examples/obi-examples
ARG LICENSES=Apache-2.0
LABEL org.opencontainers.image.source="$SOURCE" \
      org.opencontainers.image.licenses="$LICENSES" \
      org.opencontainers.image.title="$APP"
# Root-owned, so the app user cannot change it (the charts also make the whole root
# filesystem read-only).
COPY --from=build /out/${APP} /app/${APP}
USER 65532:65532
# mimalloc (every app's allocator) commits memory as it is used rather than each
# arena in full: half the idle RSS at the same throughput (docs/performance.md).
# Apps started by `cargo xtask` get the same (ALLOCATOR_ENV in xtask/src/process.rs).
ENV MIMALLOC_ARENA_EAGER_COMMIT=0

# --- one final stage per binary ---------------------------------------------------
# The binary keeps its own name (/app/<name>) because that name is what OBI sees:
# the process's comm and executable path, and the default service name outside
# Kubernetes. An exec-form ENTRYPOINT cannot expand ${APP} and the runtime has no
# shell for the other form, so each binary names itself here and APP picks the
# stage below. An APP without a stage here fails when `app-<APP>` cannot be pulled
# (`cargo xtask images` checks that every app has its stage).
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
