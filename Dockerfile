# The devtrip-streams app image: one image for every `bin/devtrip-streams` service in docker-compose.yml
# (topics-init, pipeline, api, evaluator). Build: `docker build -t devtrip-streams:local .`

# --- build: full Debian image, because npm install may have to compile native addons from source
# (@nxtedition/rocksdb ships a prebuilt binary for linux-x64 only; on arm64 it needs python3, make, g++).
FROM node:20-bookworm AS build
WORKDIR /app
# lockfile first: the dependency layer stays cached while only sources change
COPY package.json package-lock.json ./
# npm install, not npm ci: the lock file cannot list every platform's optional binaries (see .ci/run)
RUN npm install --no-audit --no-fund
COPY . .
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

# --- run: slim image with the compiled dist/ and production dependencies only
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=node:node /app /app
# bin/devtrip-streams recompiles when a source is newer than dist/.build-stamp, and the compiler is a
# dev dependency that is not in this image: stamp the build as newer than every copied source.
# .local/ is created here, owned by node, so a named volume mounted on it inherits a writable owner.
RUN touch /app/dist/.build-stamp \
 && mkdir -p /app/.local \
 && chown node:node /app/dist/.build-stamp /app/.local
USER node
# 3000: HTTP API (api service); 9464: pipeline /metrics
EXPOSE 3000 9464
CMD ["bin/devtrip-streams", "--help"]
