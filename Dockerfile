# wiretrail: slim Node LTS image, non-root, data and certs on volumes.
FROM node:22-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
COPY src ./src
COPY test ./test
COPY bench ./bench
COPY bin ./bin
RUN npm ci --no-audit --no-fund && npm run build && npm prune --omit=dev

FROM node:22-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY preload ./preload
COPY policies ./policies
COPY package.json ./
RUN mkdir -p /var/lib/wiretrail/data /var/lib/wiretrail/certs \
 && chown -R node:node /var/lib/wiretrail
USER node
VOLUME ["/var/lib/wiretrail/data", "/var/lib/wiretrail/certs"]
EXPOSE 8080 8081
# The admin API answers /healthz with 503 while the audit store cannot write.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:8081/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "bin/wiretrail.js"]
CMD ["start", "--listen", "0.0.0.0:8080", "--admin", "127.0.0.1:8081", "--data", "/var/lib/wiretrail/data", "--certs", "/var/lib/wiretrail/certs", "--policy", "/app/policies/default.yaml"]
