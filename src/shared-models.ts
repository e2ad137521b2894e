/** Schemas shared by every module: the error shape and the Idempotency-Key header. */
import { t } from "elysia";

export const ErrorResponse = t.Object(
  {
    error: t.Object({
      code: t.String(),
      message: t.String(),
      requestId: t.String(),
      details: t.Optional(t.Record(t.String(), t.Unknown())),
    }),
  },
  { description: "Every non-2xx response" },
);

export const IdempotencyHeaders = t.Object({
  authorization: t.Optional(t.String()),
  "idempotency-key": t.Optional(t.String({ minLength: 1, maxLength: 255, description: "Replays the first response for the same key and body" })),
});
