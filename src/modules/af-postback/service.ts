/**
 * AppsFlyer Push API receiver: the push-token check, and a record turned into the row we store with
 * its purchase key (SPEC 4 rule 3's dedupe key), so AppsFlyer's retries store nothing twice.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { AppError, UnauthorizedError, ValidationError } from "../../errors";
import type { AfRecord } from "./model";
import { insertRecord } from "./repository";

/** Event names exported to the pipeline as purchases (compared trimmed, case-insensitive). */
export const PURCHASE_EVENTS = ["af_purchase", "purchase"];
/** Keys of the event_value JSON that carry the store receipt id, first present wins. */
const RECEIPT_KEYS = ["af_receipt_id", "receipt_id", "af_order_id"];
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
/** Deepest nesting a record may have (PostgreSQL's jsonb parser would fail on very deep input). */
const MAX_DEPTH = 32;

const sha256 = (text: string) => createHash("sha256").update(text).digest();

/**
 * Throws unless `given` (the header's value; with Authorization a `Bearer ` prefix is also accepted)
 * equals `expected`. Compares SHA-256 digests with timingSafeEqual: constant time, length included.
 */
export function checkPushToken(given: string | undefined, expected: string | undefined, header: string): void {
  if (expected === undefined)
    throw new AppError(503, "postback_disabled", "the AppsFlyer postback is disabled: AF_PUSH_TOKEN is not set");
  let token = given ?? "";
  if (header === "authorization") token = token.replace(/^Bearer\s+/i, "");
  if (!timingSafeEqual(sha256(token), sha256(expected)))
    throw new UnauthorizedError(`missing or wrong push token in ${header}`);
}

const invalid = (field: string, message: string) => new ValidationError(`${field}: ${message}`, { field }, 422);

/** `yyyy-mm-dd hh:mm:ss[.ffffff]` (pattern-checked) to ISO 8601 UTC, and the same truncated to the second. */
function parseAfTime(value: string): { iso: string; second: string } {
  const [, y, mo, d, h, mi, s, fraction = ""] =
    /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?$/.exec(value) ?? [];
  const daysInMonth = new Date(Date.UTC(Number(y), Number(mo), 0)).getUTCDate();
  if (
    !y ||
    Number(mo) < 1 ||
    Number(mo) > 12 ||
    Number(d) < 1 ||
    Number(d) > daysInMonth ||
    Number(h) > 23 ||
    Number(mi) > 59 ||
    Number(s) > 59
  ) {
    throw invalid("event_time", "not a real UTC date and time (yyyy-mm-dd hh:mm:ss.sss)");
  }
  const second = `${y}-${mo}-${d}T${h}:${mi}:${s}Z`;
  return { iso: fraction ? second.replace("Z", `.${fraction}Z`) : second, second };
}

/** A decimal as the shortest exact text (`04.990` -> `4.99`, `-0` -> `0`); null when absent. */
function canonicalRevenue(value: string | number | null | undefined): string | null {
  if (value === undefined || value === null) return null;
  const text = typeof value === "number" ? String(value) : value;
  const match = /^(-?)(\d{1,12})(?:\.(\d{1,12}))?$/.exec(text);
  if (typeof value === "number" && (!Number.isFinite(value) || !match))
    throw invalid("event_revenue_usd", "must be a plain decimal number");
  if (!match) throw invalid("event_revenue_usd", "must be a plain decimal number");
  const whole = match[2].replace(/^0+(?=\d)/, "");
  const fraction = (match[3] ?? "").replace(/0+$/, "");
  const digits = fraction ? `${whole}.${fraction}` : whole;
  return digits === "0" ? "0" : `${match[1]}${digits}`;
}

/** The receipt id inside event_value's JSON text, or null; malformed JSON is a 422. */
function receiptId(eventValue: string | null | undefined): string | null {
  if (eventValue === undefined || eventValue === null || eventValue.trim() === "") return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(eventValue);
  } catch {
    throw invalid("event_value", "must be JSON text");
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return null;
  for (const key of RECEIPT_KEYS) {
    const value = (parsed as Record<string, unknown>)[key];
    if (value === undefined || value === null || value === "") continue;
    if (
      (typeof value !== "string" && typeof value !== "number") ||
      /[\u0000-\u001f\u007f-\u009f]/.test(String(value)) ||
      String(value).length > 255
    ) {
      throw invalid(`event_value.${key}`, "must be a string of at most 255 printable characters");
    }
    return String(value);
  }
  return null;
}

/** Rejects what PostgreSQL's jsonb cannot hold (NUL, lone surrogates) or parse (deep nesting), naming the field. */
function checkStorable(record: object): void {
  const stack: [value: unknown, path: string, depth: number][] = [[record, "", 0]];
  const bad = (text: string) => text.includes("\u0000") || LONE_SURROGATE.test(text);
  while (stack.length > 0) {
    const [value, path, depth] = stack.pop()!;
    if (typeof value === "string" && bad(value)) throw invalid(path, "must not contain NUL or unpaired surrogates");
    if (value === null || typeof value !== "object") continue;
    if (depth >= MAX_DEPTH) throw invalid(path || "body", `nested deeper than ${MAX_DEPTH} levels`);
    for (const [key, child] of Object.entries(value)) {
      const childPath = path ? `${path}.${key}` : key;
      if (bad(key)) throw invalid(childPath, "field name must not contain NUL or unpaired surrogates");
      stack.push([child, childPath, depth + 1]);
    }
  }
}

/** The row stored for one record. */
export interface PostbackRow {
  purchaseKey: string;
  appsflyerId: string;
  eventName: string;
  /** ISO 8601 UTC with the fraction as sent */
  eventTime: string;
  revenueUsd: string | null;
  campaign: string | null;
  mediaSource: string | null;
  receiptId: string | null;
  /** the whole record as received, JSON */
  record: string;
}

/** Checks one record beyond its schema and derives the stored row and its purchase key. */
function toRow(record: AfRecord): PostbackRow {
  checkStorable(record);
  const eventName = record.event_name.trim();
  const { iso, second } = parseAfTime(record.event_time);
  const revenueUsd = canonicalRevenue(record.event_revenue_usd);
  if (revenueUsd === null && PURCHASE_EVENTS.includes(eventName.toLowerCase()))
    throw invalid("event_revenue_usd", `required for ${eventName}`);
  // SPEC 4 rule 3's key, as the pipeline normalises it: time to the second, name case-insensitive, revenue exact
  const purchaseKey = sha256(
    JSON.stringify([record.appsflyer_id, second, eventName.toLowerCase(), revenueUsd ?? ""]),
  ).toString("hex");
  return {
    purchaseKey,
    appsflyerId: record.appsflyer_id,
    eventName,
    eventTime: iso,
    revenueUsd,
    campaign: record.campaign ?? null,
    mediaSource: record.media_source ?? null,
    receiptId: receiptId(record.event_value),
    record: JSON.stringify(record),
  };
}

/** Stores a record once per purchase key; a retry of a stored record answers its id with replayed=true. */
export async function receivePostback(record: AfRecord): Promise<{ recordId: number; replayed: boolean }> {
  return insertRecord(toRow(record));
}
