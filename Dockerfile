# syntax=docker/dockerfile:1
# Multi-stage build: compile TypeScript and native addons in a full image, run
# in a slim one as the unprivileged "node" user.

FROM node:22-bookworm-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
COPY packages/sdk/package.json ./packages/sdk/
COPY web/package.json ./web/
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY packages/sdk ./packages/sdk
COPY web ./web
# Compiles the server to dist/ and the web app to web/dist/.
RUN npm run build && npm prune --omit=dev

FROM node:22-bookworm-slim
ENV NODE_ENV=production EASY_CHAT_ENV=production DATA_DIR=/data PORT=8080
WORKDIR /app
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --from=build --chown=node:node /app/web/dist ./web/dist
COPY --chown=node:node package.json ./
COPY --chown=node:node config ./config
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s CMD node -e "fetch('http://127.0.0.1:'+process.env.PORT+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
# Node flags: src/cli/node-flags.ts (V8 reads them only at start).
ENTRYPOINT ["node", "--max-semi-space-size=64", "--min-semi-space-size=16", "--heap-growing-percent=100", "dist/cli.js"]
CMD ["start"]
