import { Elysia } from "elysia";
import { ErrorResponse, IdempotencyHeaders } from "../../shared-models";
import { authGuard } from "../auth";
import { EventBody, EventCreated, EventsQuery, EventsResponse } from "./model";
import { listEvents, recordEvent } from "./service";

export const eventsModule = new Elysia({ name: "events" })
  .use(authGuard)
  .post(
    "/event",
    async ({ body, userId, headers, set }) => {
      const { eventId, replayed } = await recordEvent(userId, body, headers["idempotency-key"] ?? null);
      if (replayed) set.headers["idempotent-replayed"] = "true";
      set.status = 201;
      return { ok: true as const, eventId };
    },
    {
      body: EventBody,
      headers: IdempotencyHeaders,
      response: { 201: EventCreated, 400: ErrorResponse, 401: ErrorResponse, 422: ErrorResponse },
      detail: { tags: ["events"], summary: "Record a gameplay event", security: [{ bearer: [] }] },
    },
  )
  .get("/events", ({ userId, query }) => listEvents(userId, query), {
    query: EventsQuery,
    response: { 200: EventsResponse, 401: ErrorResponse, 422: ErrorResponse },
    detail: {
      tags: ["events"],
      summary: "The caller's events, newest first, keyset-paginated",
      security: [{ bearer: [] }],
    },
  });
