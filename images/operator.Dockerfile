# The Portico operator. Build from the repository root:
#   docker build -f images/operator.Dockerfile -t portico-operator:dev .
# Node 24 runs the TypeScript sources directly (type stripping); there is no
# compile step and no generated JavaScript.
FROM node:24.21.0-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only; the `node` devDependency is not needed here.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:24.21.0-bookworm-slim
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY crds ./crds
COPY lib ./lib
COPY operator ./operator
USER 65532:65532
ENTRYPOINT ["node", "--disable-warning=ExperimentalWarning", "operator/main.ts"]
