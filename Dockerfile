# syntax=docker/dockerfile:1
# Multi-stage build on the official Bun image: dependencies, then a slim runtime as a non-root user.
FROM oven/bun:1.4.5 AS deps
WORKDIR /app
COPY package.json package-lock.json bun.lock* ./
COPY patches ./patches
# production dependencies only (bun reads package-lock.json when there is no bun.lock), then our
# patch of postgres.js (a write after a closed socket must fail the query, not crash the process)
RUN bun install --production --ignore-scripts && bunx patch-package@8

FROM oven/bun:1.4.5-slim AS runtime
WORKDIR /app
ENV NODE_ENV=production \
    PORT=8000 \
    DATA_DIR=/app/data \
    REPORTS_DIR=/app/reports
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json bunfig.toml ./
COPY src ./src
COPY workers ./workers
COPY drizzle ./drizzle
# scripts/export-purchases.ts: `docker compose exec api bun scripts/export-purchases.ts --from ... --to ... --out ...`
COPY scripts ./scripts
COPY data ./data
RUN mkdir -p /app/reports /app/data/pglite && chown -R bun:bun /app/data /app/reports
USER bun
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD bun -e "fetch('http://127.0.0.1:' + (process.env.PORT || 8000) + '/health').then(r => process.exit(r.ok ? 0 : 1)).catch(() => process.exit(1))"
# SIGTERM drains every wallet mailbox before exit
STOPSIGNAL SIGTERM
CMD ["bun", "src/index.ts"]
