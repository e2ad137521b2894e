import { Elysia } from "elysia";
import { registry } from "./service";

export const metricsModule = new Elysia({ name: "metrics" }).get(
  "/metrics",
  async ({ set }) => {
    set.headers["content-type"] = registry.contentType;
    return registry.metrics();
  },
  { detail: { tags: ["ops"], summary: "Prometheus metrics: request durations, wallet batch sizes, mailbox depth, live actors, commits" } },
);
