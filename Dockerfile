# syntax=docker/dockerfile:1.20
# check=skip=InvalidDefaultArgInFrom
# (1.20 or later: COPY --parents, generally available since that Dockerfile frontend version. It
# also needs BuildKit 0.9 or later: Docker Engine 23+, or the buildx plugin. NODE_VERSION has no
# default on purpose, hence the skipped check: see below.)
#
# One image recipe for every NestJS service: a workspace of the root package.json with a
# src/main.ts. docker compose builds it once per service, with a different SERVICE build argument
# (the workspace folder); by hand:
#
#   docker build --build-arg NODE_VERSION=<SERVICES_NODE_VERSION from .env> --build-arg SERVICE=api-service .
#
# NODE_VERSION has no default on purpose: .env is the one list of versions (compose passes it).
# Stages: base (runtime + manifests) -> build (all dependencies, tsc), confluent-client (the
# optional Kafka client's native addon) and prod-deps (production dependencies only) -> runtime
# (prod-deps + the addon + compiled JavaScript, run as the `node` user).
# The `tools` stage is not a service: the scripts (peek, dead-letters, load) for compose's
# `tools` and `load` services (`--target tools`, no SERVICE). runtime stays last: the default target.
# Nothing here names a service: a new workspace folder is built like the others.

ARG NODE_VERSION

# ---------------------------------------------------------------------------------------------
FROM node:${NODE_VERSION}-slim AS base
WORKDIR /app
# npm ci wants the manifest of every workspace the lockfile names, even those it will not install:
# the root manifests and every */package.json, each in its folder. Only the manifests, so the
# npm ci layers below stay cached while the sources change.
COPY --parents package.json package-lock.json */package.json ./
# An older BuildKit (Docker Engine 20.10's own) ignores --parents without an error and copies other
# files: the image would hold the sources and every source change would rebuild the npm ci layers.
RUN if [ ! -f common/package.json ] || [ -n "$(find . -type f ! -name package.json ! -name package-lock.json)" ]; then \
      echo "COPY --parents was ignored: build with BuildKit 0.9 or later (Docker Engine 23+, or the buildx plugin)" >&2; exit 1; \
    fi
# Readable by the `node` user whatever the umask of the checkout they came from (COPY keeps modes).
RUN chmod -R a+rX /app

# ---------------------------------------------------------------------------------------------
FROM base AS build
# All workspaces, dev dependencies included (the compiler). SERVICE is declared only below, so
# this layer is the same for every service and is built once. No install scripts: the one that
# matters, the confluent client's, runs in its own stage below.
RUN --mount=type=cache,target=/root/.npm npm ci --ignore-scripts --no-audit --no-fund
ARG SERVICE
RUN test -n "${SERVICE}" && test -f "${SERVICE}/package.json" || { \
      echo "build argument SERVICE must name a workspace folder (with a package.json), got '${SERVICE}'" >&2; exit 1; }
COPY tsconfig.base.json ./
COPY common/ common/
COPY ${SERVICE}/ ${SERVICE}/
# tsc -b follows the service's project reference to common: both get their dist/.
RUN ./node_modules/.bin/tsc -b "${SERVICE}"

# ---------------------------------------------------------------------------------------------
FROM base AS confluent-client
# @confluentinc/kafka-javascript (KAFKA_CLIENT=confluent, an optional dependency of common), built
# once for every service. Its installer downloads a prebuilt addon from GitHub; where GitHub cannot
# be reached, it compiles librdkafka from the package's sources (~2 min on 2 cores), linked to
# Debian's libraries (CKJS_LINKING=dynamic, docs/known-limits.md). Those libraries are then copied
# beside the addon, which looks there first ($ORIGIN): the runtime image needs no extra package.
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --workspace common --include-workspace-root=false --ignore-scripts --no-audit --no-fund
WORKDIR /app/node_modules/@confluentinc/kafka-javascript
RUN if ! ../../.bin/node-pre-gyp install; then \
      apt-get update && apt-get install -y --no-install-recommends g++ make python3 patchelf \
        libssl-dev zlib1g-dev libzstd-dev libsasl2-dev liblz4-dev \
      && CKJS_LINKING=dynamic npm_config_nodedir=/usr/local ../../.bin/node-pre-gyp install --build-from-source \
      && cd build/Release && rm -rf obj.target .deps && cp ../deps/librdkafka*.so.1 . && strip --strip-unneeded librdkafka*.so.1 \
      && ldd ./*.node | awk '$3 ~ "^/(usr/)?lib/" && $1 !~ "^(libc|libm|libstdc[+][+]|libgcc_s)[.]so" { print $3 }' | xargs -r cp -L -t . \
      && patchelf --set-rpath '$ORIGIN' ./*.node ./*.so.*; \
    fi

# ---------------------------------------------------------------------------------------------
FROM base AS prod-deps
ARG SERVICE
# Only what the service needs at run time: its dependencies, the @demo/common workspace (a symlink
# node_modules/@demo/common -> ../../common) and common's own dependencies. The confluent client's
# addon comes from its stage.
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --workspace "${SERVICE}" --include-workspace-root=false --ignore-scripts --no-audit --no-fund
COPY --from=confluent-client /app/node_modules/@confluentinc/kafka-javascript/build/Release/ node_modules/@confluentinc/kafka-javascript/build/Release/

# ---------------------------------------------------------------------------------------------
FROM base AS tools
ENV NODE_ENV=production
# The scripts need kafkajs only, pinned by the lockfile as a dependency of the common workspace
# (not the optional confluent client).
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --omit=optional --workspace common --include-workspace-root=false --no-audit --no-fund
# a+rX (not an octal mode, which would also apply to the folders and make them untraversable).
COPY --chmod=a+rX scripts/ scripts/
USER 1000:1000
# `docker compose run --rm tools peek -- student` runs `npm run peek -- student`.
ENTRYPOINT ["npm", "run", "--silent"]

# ---------------------------------------------------------------------------------------------
FROM node:${NODE_VERSION}-slim AS runtime
ARG SERVICE
ENV NODE_ENV=production
WORKDIR /app
# Files stay owned by root: the service runs as `node` (below) and cannot modify its own code.
COPY --from=prod-deps /app ./
COPY --from=build /app/common/dist common/dist
COPY --from=build /app/${SERVICE}/dist ${SERVICE}/dist
WORKDIR /app/${SERVICE}
# The official image's unprivileged `node` user, by number so that a runtime can check it is not
# root without resolving names (Kubernetes' runAsNonRoot does exactly that).
USER 1000:1000
# Exec form: node is the process that receives SIGTERM (compose adds an init process in front,
# `init: true`, which forwards it), and the services shut down gracefully on it.
# --import loads the OpenTelemetry bootstrap before any application module, so that the ESM
# loader hook can instrument kafkajs, pg and http when Nest imports them. Tuning flags go in
# NODE_OPTIONS (docker-compose.yml), not here.
CMD ["node", "--import", "@demo/common/tracing", "dist/main.js"]
