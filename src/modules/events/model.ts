import { t } from "elysia";
import { CONTROL_CHARS, storableText } from "../../shared-models";

export const ISO_TIMESTAMP = "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?(Z|[+-]\\d{2}:\\d{2})$";

const EventType = t.String({ minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9_.-]+$", examples: ["level_complete"] });

export const EventBody = t.Object(
  {
    eventType: EventType,
    meta: t.Optional(t.String({ maxLength: 5000, pattern: storableText(), examples: ['{"level": 42}'] })),
    timestampUtc: t.Optional(
      t.String({
        pattern: ISO_TIMESTAMP,
        description: "ISO 8601 with Z or an offset; default now",
        examples: ["2025-10-25T10:30:00Z"],
      }),
    ),
  },
  { additionalProperties: true },
);
export type EventBody = typeof EventBody.static;

export const EventCreated = t.Object({ ok: t.Literal(true), eventId: t.Integer() });

export const EventsQuery = t.Object({
  limit: t.Optional(t.Numeric({ minimum: 1, maximum: 100, multipleOf: 1, default: 100 })),
  eventType: t.Optional(EventType),
  from: t.Optional(t.String({ pattern: ISO_TIMESTAMP })),
  to: t.Optional(t.String({ pattern: ISO_TIMESTAMP })),
  cursor: t.Optional(t.String({ pattern: "^\\d{1,15}\\.\\d{1,18}$", description: "nextCursor of the previous page" })),
});
export type EventsQuery = typeof EventsQuery.static;

const EventItem = t.Object({
  eventId: t.Integer(),
  eventType: t.String(),
  tsUtc: t.String({ format: "date-time" }),
  meta: t.Union([t.String(), t.Null()]),
});
export const EventsResponse = t.Object({ events: t.Array(EventItem), nextCursor: t.Union([t.String(), t.Null()]) });

/** Printable, <= 100 chars: no control characters. */
const TrackParam = t.String({ minLength: 1, maxLength: 100, pattern: storableText(CONTROL_CHARS) });
export const TrackQuery = t.Object({
  campaign: TrackParam,
  character: t.Optional(TrackParam),
  source: t.Optional(TrackParam),
  af_id: t.Optional(TrackParam),
});
export type TrackQuery = typeof TrackQuery.static;
export const TrackResponse = t.Object({ ok: t.Literal(true), trackedId: t.Integer() });
