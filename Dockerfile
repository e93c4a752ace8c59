# wiretrail: slim Node LTS image, non-root, read-only root filesystem, data and certs on volumes.
# Settings come from WIRETRAIL_* variables (see `wiretrail config show`), so every command run in the
# container (`docker run … wiretrail verify`, `… export`) sees the same folders as `start`.
FROM node:22-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
COPY src ./src
COPY bin ./bin
# `npm ci` runs `prepare` (tsc → dist/); install scripts are those package.json's allowScripts declares.
RUN npm ci --no-audit --no-fund && npm prune --omit=dev --no-audit --no-fund

FROM node:22-slim
ENV NODE_ENV=production \
    WIRETRAIL_LISTEN=0.0.0.0:8080 \
    WIRETRAIL_ADMIN=127.0.0.1:8081 \
    WIRETRAIL_DATA=/var/lib/wiretrail/data \
    WIRETRAIL_CERTS=/var/lib/wiretrail/certs \
    WIRETRAIL_POLICY=/app/policies/default.yaml
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY preload ./preload
COPY policies ./policies
COPY package.json ./
# The volumes are the only writable paths (run with --read-only); the app stays root-owned and read-only.
RUN mkdir -p /var/lib/wiretrail/data /var/lib/wiretrail/certs /var/lib/wiretrail/export \
 && chown -R node:node /var/lib/wiretrail \
 && chmod 700 /var/lib/wiretrail/data /var/lib/wiretrail/certs
USER node
VOLUME ["/var/lib/wiretrail/data", "/var/lib/wiretrail/certs"]
# 8080 proxy. 8081 admin API: bound to loopback inside the container unless WIRETRAIL_ADMIN=0.0.0.0:8081
# is set (then publish it on the host's loopback: -p 127.0.0.1:8081:8081).
EXPOSE 8080 8081
STOPSIGNAL SIGTERM
# Ready = audit store writable, CA loaded, policy valid (503 with the reason otherwise).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8081/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "bin/wiretrail.js"]
CMD ["start"]
