import { Elysia } from "elysia";
import { config } from "../../config";
import { NotFoundError } from "../../errors";
import { registry } from "../../metrics";

/** GET /metrics on the API port, unless METRICS_PORT moves it to a port of its own (src/index.ts). */
export const metricsModule = new Elysia({ name: "metrics" }).get(
  "/metrics",
  async ({ set }) => {
    if (config.metricsPort !== undefined) throw new NotFoundError("no such route");
    set.headers["content-type"] = registry.contentType;
    return registry.metrics();
  },
  {
    detail: {
      tags: ["ops"],
      summary: "Prometheus metrics: request durations, wallet batch sizes, mailbox depth, live actors, commits",
    },
  },
);
