# One image for the API, the worker and the demo emulator; the command picks the process.
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY activities ./activities
COPY api ./api
COPY codec ./codec
COPY config ./config
COPY emulator ./emulator
COPY observability ./observability
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
