import { Elysia, t } from "elysia";
import { config } from "../../config";
import { driver, pingDatabase } from "../../db/client";
import { rootCause } from "../../errors";
import { log } from "../../logger";

const startedAt = Date.now();
let lastFailureLoggedAt = 0;

const HealthResponse = t.Object({
  status: t.Union([t.Literal("ok"), t.Literal("degraded")]),
  db: t.Object({
    status: t.Union([t.Literal("up"), t.Literal("down")]),
    driver: t.String(),
    latencyMs: t.Union([t.Number(), t.Null()]),
    error: t.Optional(t.String()),
  }),
  version: t.String(),
  instance: t.String(),
  uptimeS: t.Number(),
  timestamp: t.String({ format: "date-time" }),
});

export const healthModule = new Elysia({ name: "health" }).get(
  "/health",
  async ({ set }) => {
    const base = {
      version: config.version,
      instance: config.instanceId,
      uptimeS: Math.floor((Date.now() - startedAt) / 1000),
      timestamp: new Date().toISOString(),
    };
    try {
      const latencyMs = await pingDatabase(2000);
      return { status: "ok" as const, db: { status: "up" as const, driver, latencyMs }, ...base };
    } catch (error) {
      set.status = 503;
      set.headers["retry-after"] = "1";
      // a fixed message: the driver's error can hold query text, host names or credentials; the cause goes to the log
      if (Date.now() - lastFailureLoggedAt >= 1000) {
        lastFailureLoggedAt = Date.now(); // one line a second, however often a load balancer polls
        log("error", "health check: database unreachable", { cause: rootCause(error) });
      }
      return {
        status: "degraded" as const,
        db: { status: "down" as const, driver, latencyMs: null, error: "database unreachable" },
        ...base,
      };
    }
  },
  {
    response: { 200: HealthResponse, 503: HealthResponse },
    detail: { tags: ["ops"], summary: "Liveness and database round trip (503 degraded after 2 s)" },
  },
);
