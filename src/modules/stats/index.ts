import { Elysia } from "elysia";
import { ErrorResponse } from "../../shared-models";
import { optionalAuth } from "../auth";
import { StatsQuery, StatsResponse } from "../events/model";
import { eventStats } from "./service";

export const statsModule = new Elysia({ name: "stats" })
  .use(optionalAuth)
  .get("/stats", ({ userId, query }) => eventStats(userId, query.from, query.to), {
    query: StatsQuery,
    response: { 200: StatsResponse, 401: ErrorResponse, 422: ErrorResponse },
    detail: {
      tags: ["events"],
      summary: "Event counts: the caller's with a valid token, global without one (an invalid token is a 401)",
      security: [{}, { bearer: [] }],
    },
  });
