/** AppsFlyer Push API V2 record (the fields we read; every other field is kept as sent) and the answers. */
import { t } from "elysia";
import { CONTROL_CHARS, ErrorResponse, storableText } from "../../shared-models";

/** AppsFlyer's UTC timestamp format: `yyyy-mm-dd hh:mm:ss.sss` (fraction optional here, up to 6 digits). */
const AF_TIME = "^\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}(\\.\\d{1,6})?$";
/** A plain decimal (no exponent, no thousands separator, no currency sign). */
const DECIMAL = "^-?\\d{1,12}(\\.\\d{1,12})?$";

const printable = storableText(CONTROL_CHARS);
const optionalText = (maxLength: number, description: string) =>
  t.Optional(t.Union([t.String({ maxLength, pattern: printable }), t.Null()], { description }));

export const AfRecord = t.Object(
  {
    appsflyer_id: t.String({ minLength: 1, maxLength: 255, pattern: printable, examples: ["1733570000000-1234567"] }),
    event_name: t.String({
      minLength: 1,
      maxLength: 255,
      pattern: printable,
      description: "`af_purchase` for purchases; installs and other in-app events are stored too",
      examples: ["af_purchase"],
    }),
    event_time: t.String({
      pattern: AF_TIME,
      description: "UTC, `yyyy-mm-dd hh:mm:ss.sss`",
      examples: ["2025-01-10 12:00:00.123"],
    }),
    event_revenue_usd: t.Optional(
      t.Union([t.String({ pattern: DECIMAL }), t.Number(), t.Null()], {
        description: "required for af_purchase; a decimal number or string",
        examples: ["4.99"],
      }),
    ),
    campaign: optionalText(1000, "campaign name (omitted for organic)"),
    media_source: optionalText(1000, "media source (omitted for organic)"),
    event_value: t.Optional(
      t.Union([t.String({ maxLength: 32_768 }), t.Null()], {
        description: "JSON text; its af_receipt_id (else receipt_id, else af_order_id) is the purchase's receipt id",
        examples: ['{"af_revenue":"4.99","af_currency":"USD","af_receipt_id":"GPA.1234-5678"}'],
      }),
    ),
  },
  { additionalProperties: true, description: "One Push API V2 record; fields not listed are stored as sent" },
);
export type AfRecord = typeof AfRecord.static;

export const AfStored = t.Object(
  {
    ok: t.Literal(true),
    recordId: t.Integer({ description: "the stored record; a replay answers the first one's id" }),
  },
  {
    description:
      "Stored, or already stored (a retry): then the header Idempotent-Replayed is true and nothing new is stored",
    headers: {
      "Idempotent-Replayed": {
        description: "`true` when the record's purchase key was already stored",
        schema: { type: "string", enum: ["true"] },
      },
    },
  },
);

const error = (description: string) => t.Object(ErrorResponse.properties, { description });

export const AfErrors = {
  400: error("Malformed JSON, not an object, or not application/json (details.field names the problem)"),
  401: error("unauthorized: the push token header is missing or wrong"),
  413: error("payload_too_large: body over 64 KiB"),
  422: error("validation_error: a malformed record; details.field names the field"),
  503: error("postback_disabled: AF_PUSH_TOKEN is not set, nothing is stored"),
};
