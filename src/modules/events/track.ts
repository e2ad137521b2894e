/** GET /track: a deeplink click recorded as a deeplink_open event, so it is part of the events feature. */
import { Elysia } from "elysia";
import { clientAddress, trackLimiter } from "../../plugins/client-limits";
import { ErrorResponse } from "../../shared-models";
import { TrackQuery, TrackResponse } from "./model";
import { recordDeeplink } from "./service";

/** Deeplink attribution clicks. Answers JSON only: it never redirects, so it cannot be an open redirect. */
export const trackModule = new Elysia({ name: "track" }).get(
  "/track",
  async ({ query }) => ({ ok: true as const, trackedId: await recordDeeplink(query) }),
  {
    beforeHandle: ({ request, server }) => trackLimiter.check(clientAddress(request, server)),
    query: TrackQuery,
    response: { 200: TrackResponse, 422: ErrorResponse, 429: ErrorResponse },
    detail: { tags: ["events"], summary: "Record a deeplink_open event under af_id (or anon)" },
  },
);
