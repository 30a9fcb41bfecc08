# One image recipe for the three NestJS services. docker compose builds it three times, once per
# service, with a different SERVICE build argument; by hand:
#
#   docker build --build-arg NODE_VERSION=<NODE_VERSION from .env> --build-arg SERVICE=api-service .
#
# NODE_VERSION has no default on purpose: .env is the one list of versions (compose passes it).
# Stages: base (runtime + manifests) -> build (all dependencies, tsc) and prod-deps (production
# dependencies only) -> runtime (prod-deps + compiled JavaScript, run as the `node` user).
# The `tools` stage is not a service: the scripts (peek, dead-letters, load) for compose's
# `tools` and `load` profiles (`--target tools`, no SERVICE). runtime stays last: the default target.

ARG NODE_VERSION

# ---------------------------------------------------------------------------------------------
FROM node:${NODE_VERSION}-slim AS base
WORKDIR /app
# npm ci wants the manifest of every workspace the lockfile names, even those it will not install.
COPY package.json package-lock.json ./
COPY common/package.json common/
COPY api-service/package.json api-service/
COPY billing-consumer/package.json billing-consumer/
COPY notifier-consumer/package.json notifier-consumer/

# ---------------------------------------------------------------------------------------------
FROM base AS build
# All workspaces, dev dependencies included (the compiler). SERVICE is declared only below, so
# this layer is the same for the three services and is built once.
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
ARG SERVICE
RUN case "${SERVICE}" in \
      api-service|billing-consumer|notifier-consumer) ;; \
      *) echo "build argument SERVICE must name a service folder, got '${SERVICE}'" >&2; exit 1 ;; \
    esac
COPY tsconfig.base.json ./
COPY common/ common/
COPY ${SERVICE}/ ${SERVICE}/
# tsc -b follows the service's project reference to common: both get their dist/.
RUN ./node_modules/.bin/tsc -b "${SERVICE}"

# ---------------------------------------------------------------------------------------------
FROM base AS prod-deps
ARG SERVICE
# Only what the service needs at run time: its dependencies, the @demo/common workspace (a symlink
# node_modules/@demo/common -> ../../common) and common's own dependencies.
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --workspace "${SERVICE}" --include-workspace-root=false --no-audit --no-fund

# ---------------------------------------------------------------------------------------------
FROM base AS tools
ENV NODE_ENV=production
# The scripts need kafkajs only, pinned by the lockfile as a dependency of the common workspace.
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --workspace common --include-workspace-root=false --no-audit --no-fund
COPY scripts/ scripts/
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
# loader hook can instrument kafkajs, pg and http when Nest imports them. kafkajs 2.2.4 sets a
# negative timeout that Node 24 warns about, harmlessly (kafkajs issue 1751).
CMD ["node", "--disable-warning=TimeoutNegativeWarning", "--max-semi-space-size=16", "--import", "@demo/common/tracing", "dist/main.js"]
