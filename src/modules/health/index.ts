import { Elysia, t } from "elysia";
import { config } from "../../config";
import { driver, pingDatabase } from "../../db/client";

const startedAt = Date.now();

const HealthResponse = t.Object({
  status: t.Union([t.Literal("ok"), t.Literal("degraded")]),
  db: t.Object({ status: t.Union([t.Literal("up"), t.Literal("down")]), driver: t.String(), latencyMs: t.Union([t.Number(), t.Null()]), error: t.Optional(t.String()) }),
  version: t.String(),
  instance: t.String(),
  uptimeS: t.Number(),
  timestamp: t.String({ format: "date-time" }),
});

export const healthModule = new Elysia({ name: "health" }).get(
  "/health",
  async ({ set }) => {
    const base = { version: config.version, instance: config.instanceId, uptimeS: Math.floor((Date.now() - startedAt) / 1000), timestamp: new Date().toISOString() };
    try {
      const latencyMs = await pingDatabase(2000);
      return { status: "ok" as const, db: { status: "up" as const, driver, latencyMs }, ...base };
    } catch (error) {
      set.status = 503;
      return { status: "degraded" as const, db: { status: "down" as const, driver, latencyMs: null, error: (error as Error).message }, ...base };
    }
  },
  { response: { 200: HealthResponse, 503: HealthResponse }, detail: { tags: ["ops"], summary: "Liveness and database round trip (503 degraded after 2 s)" } },
);
