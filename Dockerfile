# Two images from one file. The default (last) stage is the service: the API and the worker, the command picks the
# process; it holds neither the Salesforce emulator nor anything only the emulator needs. The `emulator` target is
# the demo Salesforce emulator alone (docker-compose's `demo` profile builds it with `target: emulator`).
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# --workspaces=false: the root's dependencies only; the workspace packages (the emulator) are neither copied nor linked.
RUN npm ci --workspaces=false --no-audit --no-fund

# The Salesforce emulator: its package and its own production dependencies only (no Temporal, no service code).
FROM node:20-bookworm-slim AS emulator
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/salesforce-emulator/package.json ./packages/salesforce-emulator/
RUN npm ci --workspace=@agent-connections/salesforce-emulator --omit=dev --no-audit --no-fund && npm cache clean --force
COPY packages/salesforce-emulator ./packages/salesforce-emulator
# The state file's folder (docker-compose mounts a volume there), writable by the unprivileged user.
RUN mkdir -p /data && chown node:node /data
ENV NODE_ENV=production
USER node
# 4410: the Salesforce surface (login and instance URLs); 4411: the control API.
EXPOSE 4410 4411
CMD ["node_modules/.bin/tsx", "packages/salesforce-emulator/src/main.ts"]

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY activities ./activities
COPY salesforce ./salesforce
COPY secrets ./secrets
COPY api ./api
COPY codec ./codec
COPY config ./config
COPY observability ./observability
COPY audit ./audit
COPY scripts ./scripts
COPY workers ./workers
COPY workflows ./workflows
# The workflow bundle is built once here: workers start without webpack (WORKFLOW_BUNDLE_PATH).
RUN node_modules/.bin/tsx workers/workflow-bundle.ts dist/workflow-bundle.js
ENV WORKFLOW_BUNDLE_PATH=/app/dist/workflow-bundle.js
USER node
# 3000: the API (and /codec, /metrics); 9464: a worker's /metrics and /healthz.
EXPOSE 3000 9464
CMD ["node_modules/.bin/tsx", "api/main.ts"]
