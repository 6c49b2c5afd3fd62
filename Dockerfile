# syntax=docker/dockerfile:1
# Node 26: the Active LTS (maintained until April 2029) and the newest Node CI runs the whole suite on.
# Build stage: compiles TypeScript. better-sqlite3 13 ships Node-API prebuilds and allowScripts in package.json skips
# its implicit node-gyp step, so neither Python nor a compiler is needed.
FROM node:26.12-trixie-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY src ./src
# The operator's console: its files, copied with Preact and htm into dist/console by the build.
COPY console ./console
COPY scripts/build-console.js ./scripts/
RUN npm run build && npm prune --omit=dev

# Runtime stage: same base, non-root, tini as PID 1 so SIGTERM reaches the app and zombies are reaped.
FROM node:26.12-trixie-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /data && chown node:node /data
WORKDIR /app
ENV NODE_ENV=production \
    PORT=8080 \
    HOST=0.0.0.0 \
    DATABASE_URL=sqlite:////data/relay.db
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --chown=node:node package.json ./
USER node
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/health/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/main.js"]
