import { Elysia } from "elysia";
import { anonymousStatsLimiter, clientAddress } from "../../plugins/client-limits";
import { ErrorResponse } from "../../shared-models";
import { optionalAuth } from "../auth";
import { StatsQuery, StatsResponse } from "./model";
import { eventStats } from "./service";

export const statsModule = new Elysia({ name: "stats" })
  .use(optionalAuth)
  .get("/stats", ({ userId, query }) => eventStats(userId, query.from, query.to), {
    // after optionalAuth's resolve: only calls without a token are limited per address
    beforeHandle: ({ userId, request, server }) =>
      userId === undefined ? anonymousStatsLimiter.check(clientAddress(request, server)) : undefined,
    query: StatsQuery,
    response: { 200: StatsResponse, 401: ErrorResponse, 422: ErrorResponse, 429: ErrorResponse, 503: ErrorResponse },
    detail: {
      tags: ["events"],
      summary: "Event counts: the caller's with a valid token, global without one (an invalid token is a 401)",
      security: [{}, { bearer: [] }],
    },
  });
