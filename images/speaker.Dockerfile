# The Portico speaker (DaemonSet). It programs nftables or IPVS and announces
# addresses, so the image carries nft, ipvsadm and ip, and iptables (its
# -legacy tools hold the IPVS companion rules on kernels whose nf_tables has
# no inet family). Build from the root:
#   docker build -f images/speaker.Dockerfile -t portico-speaker:dev .
FROM node:24.21.0-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:24.21.0-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends nftables ipvsadm iproute2 iptables \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY crds ./crds
COPY lib ./lib
COPY speaker ./speaker
# Root inside the container, but only NET_ADMIN and NET_RAW are granted by the
# DaemonSet (every other capability is dropped): netlink and raw sockets need them.
ENTRYPOINT ["node", "--disable-warning=ExperimentalWarning", "speaker/main.ts"]
