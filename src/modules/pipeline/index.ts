import { timingSafeEqual } from "node:crypto";
import { Elysia } from "elysia";
import { config } from "../../config";
import { UnauthorizedError } from "../../errors";
import { ErrorResponse } from "../../shared-models";
import { bearerToken } from "../auth/service";
import { RunList, RunParams, RunStarted, RunsQuery, RunView } from "./model";
import { getRun, getRuns, startRun } from "./service";

/** With ADMIN_TOKEN set, the caller must send it as a Bearer token; unset, the routes are open. */
function requireAdmin(authorization: string | undefined): void {
  if (config.adminToken === undefined) return;
  let token: string | undefined;
  try {
    token = bearerToken(authorization);
  } catch {
    // a malformed Authorization header is simply not the admin token
  }
  const given = Buffer.from(token ?? "");
  const expected = Buffer.from(config.adminToken);
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    throw new UnauthorizedError("admin token required");
}

export const pipelineModule = new Elysia({ name: "pipeline" })
  .onBeforeHandle(({ headers }) => requireAdmin(headers.authorization))
  .post(
    "/run-pipeline",
    async ({ set }) => {
      const run = await startRun();
      set.status = 202;
      return { runId: run.runId, status: run.status };
    },
    {
      response: { 202: RunStarted, 401: ErrorResponse, 409: ErrorResponse },
      detail: {
        tags: ["pipeline"],
        summary:
          "Start a revenue pipeline run (DATA_DIR -> REPORTS_DIR) in the worker pool; one at a time across all instances",
        security: [{ bearer: [] }],
      },
    },
  )
  .get("/pipeline/runs", ({ query }) => getRuns(query.limit ?? 20, query.cursor), {
    query: RunsQuery,
    response: { 200: RunList, 401: ErrorResponse, 422: ErrorResponse },
    detail: {
      tags: ["pipeline"],
      summary: "The latest runs (HTTP and CLI), newest first; pass nextCursor back as cursor",
      security: [{ bearer: [] }],
    },
  })
  .get("/pipeline/runs/:runId", ({ params }) => getRun(params.runId), {
    params: RunParams,
    response: { 200: RunView, 401: ErrorResponse, 404: ErrorResponse, 422: ErrorResponse },
    detail: {
      tags: ["pipeline"],
      summary: "Status, per-stage timings, summary and errors of a run",
      security: [{ bearer: [] }],
    },
  });
