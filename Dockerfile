# One image per service, from this one file:
#   docker build --build-arg SERVICE=users -t shop/users .
# Node 24 runs the TypeScript sources as they are (type stripping), so nothing is compiled:
# the image is the service's production dependencies plus its sources and the platform's.
# Targets: `runtime` (the default, for releases) and `dev` (for Tilt's live update).

FROM node:24-slim AS deps
ARG SERVICE
RUN test -n "$SERVICE" || { echo 'build with --build-arg SERVICE=<a folder of services/>' >&2; exit 1; }
WORKDIR /app
# Manifests first, so editing sources does not reinstall dependencies.
COPY package.json package-lock.json ./
COPY packages/platform/package.json packages/platform/
COPY services/${SERVICE}/package.json services/${SERVICE}/
# Only this workspace's production dependencies, at the lockfile's versions. Install
# scripts stay off, as the repository's allowScripts has them: nothing the services run
# needs one. `npm install` rather than `npm ci`: a lockfile written where a registry lacks
# some of Biome's per-platform binaries (dev-only) would make `npm ci` refuse it.
# TypeScript is a root devDependency, but vue (under the gateway's API reference page) names
# it as an optional peer, so npm counts it as a production package; nothing in an image
# compiles TypeScript (Node strips the types), so it goes.
RUN --mount=type=cache,target=/root/.npm \
    npm install --omit=dev --workspace "services/${SERVICE}" --ignore-scripts --no-audit --no-fund \
 && rm -rf node_modules/typescript node_modules/.bin/tsc node_modules/.bin/tsserver

FROM node:24-slim AS app
ARG SERVICE
WORKDIR /app
COPY --from=deps /app ./
COPY packages/platform packages/platform
COPY services/${SERVICE} services/${SERVICE}
# The service's folder: `node src/main.ts` starts it, and the migration Job runs
# `node ../../packages/platform/src/db/migrate-cli.ts migrations` from here.
WORKDIR /app/services/${SERVICE}

# Tilt copies edited sources into the running container and `node --watch` restarts on
# them, so here the sources belong to the app's user. Never ship this target.
FROM app AS dev
USER root
RUN chown -R node:node /app/packages/platform /app/services
USER node
CMD ["node", "--import", "@shop/platform/tracing-preload", "--watch", "src/main.ts"]

# Files stay root-owned and read-only to the app; it runs as the unprivileged `node`
# user and writes nothing outside /tmp, so a read-only root filesystem works.
# The preload instruments the database drivers for tracing when OTEL_EXPORTER_OTLP_ENDPOINT
# is set, and does nothing otherwise.
FROM app AS runtime
USER node
CMD ["node", "--import", "@shop/platform/tracing-preload", "src/main.ts"]
