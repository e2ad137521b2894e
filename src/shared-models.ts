/** Schemas shared by every module: the error shape, the Idempotency-Key header, text patterns. */
import { t } from "elysia";

// A UTF-16 code unit sequence with no lone surrogate: anything else could not round-trip through UTF-8 storage.
const WELL_FORMED = "(?:[^\\ud800-\\udfff{EXCLUDED}]|[\\ud800-\\udbff][\\udc00-\\udfff])";

/**
 * A regex for text that stores and comes back byte for byte: well-formed UTF-16, no NUL (PostgreSQL text
 * cannot hold it), and none of `excluded` (a character-class body, e.g. control characters).
 */
export function storableText(excluded = ""): string {
  return `^${WELL_FORMED.replace("{EXCLUDED}", `\\u0000${excluded}`)}*$`;
}

/** Control characters (C0, DEL, C1): never allowed in ids and tracking parameters. */
export const CONTROL_CHARS = "\\u0001-\\u001f\\u007f-\\u009f";

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
  "idempotency-key": t.Optional(
    t.String({ minLength: 1, maxLength: 255, description: "Replays the first response for the same key and body" }),
  ),
});
