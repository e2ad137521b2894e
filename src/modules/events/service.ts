/** Gameplay events: store, list (keyset), count; deeplink clicks are events too. */
import { db, rawQuery } from "../../db/client";
import { events } from "../../db/schema";
import { IdempotencyKeyReusedError, UnauthorizedError, ValidationError } from "../../errors";
import { normaliseUserId } from "../auth/service";
import type { EventBody, EventsQuery, TrackQuery } from "./model";

const DEEPLINK_EVENT = "deeplink_open";

// PostgreSQL and ISO 8601 both accept years 1-9999; year 0 or 10000 after the offset fails in the database (a 500 before)
const FIRST_INSTANT_MS = Date.parse("0001-01-01T00:00:00.000Z");
const LAST_INSTANT_MS = Date.parse("9999-12-31T23:59:59.999Z");

/** True for epoch milliseconds inside years 1-9999 UTC. */
function storableInstant(ms: number): boolean {
  return ms >= FIRST_INSTANT_MS && ms <= LAST_INSTANT_MS;
}

/** Parses a pattern-checked ISO 8601 timestamp, rejecting impossible dates such as 2025-02-30 and instants outside years 1-9999 UTC. */
function parseTimestamp(value: string, field: string): Date {
  const [, y, mo, d, h, mi, s] = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})/.exec(value) ?? [];
  const daysInMonth = new Date(Date.UTC(Number(y), Number(mo), 0)).getUTCDate();
  const date = new Date(value);
  const valid =
    Number(mo) >= 1 &&
    Number(mo) <= 12 &&
    Number(d) >= 1 &&
    Number(d) <= daysInMonth &&
    Number(h) < 24 &&
    Number(mi) < 60 &&
    Number(s) < 60;
  const offset = /([+-])(\d{2}):(\d{2})$/.exec(value);
  if (!valid || Number.isNaN(date.getTime()) || (offset && (Number(offset[2]) > 23 || Number(offset[3]) > 59))) {
    throw new ValidationError(`${field} is not a real date and time`, { field, value }, 422);
  }
  if (!storableInstant(date.getTime()))
    throw new ValidationError(`${field} must be between years 0001 and 9999 in UTC`, { field, value }, 422);
  return date;
}

const USER_GONE = "user of this token does not exist; log in again";

// Raw SQL, so that the user's existence is checked in the same statement (a deleted user's token is a 401
// without an extra round trip) and timestamps come back as epoch ms (drizzle reads "0001-01-01 ..." back as 2001).
const INSERT_EVENT = `insert into events (user_id, event_type, ts_utc, meta, idempotency_key, request_hash)
  select $1, $2, $3::timestamptz, $4, $5, $6 where exists (select 1 from users where user_id = $1)
  on conflict (user_id, idempotency_key) do nothing returning id`;
const KEYED_EVENT = `select e.id, e.request_hash from users u join events e on e.user_id = u.user_id
  where u.user_id = $1 and e.idempotency_key = $2`;

/** Stores one event; with an Idempotency-Key, a retry returns the first eventId and a different body is a 422. */
export async function recordEvent(
  userId: string,
  body: EventBody,
  idempotencyKey: string | null,
): Promise<{ eventId: number; replayed: boolean }> {
  const tsUtc = body.timestampUtc ? parseTimestamp(body.timestampUtc, "timestampUtc") : new Date();
  const requestHash =
    idempotencyKey === null ? null : JSON.stringify([body.eventType, body.meta ?? null, body.timestampUtc ?? null]);
  const [inserted] = await rawQuery(INSERT_EVENT, [
    userId,
    body.eventType,
    tsUtc.toISOString(),
    body.meta ?? null,
    idempotencyKey,
    requestHash,
  ]);
  if (inserted) return { eventId: Number(inserted.id), replayed: false };
  // no row: the user is gone, or (with a key) the key was used before
  const [first] = idempotencyKey === null ? [] : await rawQuery(KEYED_EVENT, [userId, idempotencyKey]);
  if (!first) throw new UnauthorizedError(USER_GONE);
  if (first.request_hash !== requestHash) {
    throw new IdempotencyKeyReusedError();
  }
  return { eventId: Number(first.id), replayed: true };
}

/** SQL conditions on events.ts_utc for the from/to query parameters, numbered from $next. */
function rangeSql(from: string | undefined, to: string | undefined, params: unknown[]): string {
  let conditions = "";
  if (from) conditions += ` and ts_utc >= $${params.push(parseTimestamp(from, "from").toISOString())}::timestamptz`;
  if (to) conditions += ` and ts_utc <= $${params.push(parseTimestamp(to, "to").toISOString())}::timestamptz`;
  return conditions;
}

/** The `<epoch ms>.<id>` cursor of a page's last row, checked like any other input. */
function parseCursor(cursor: string): { ms: number; id: number } {
  const [ms, id] = cursor.split(".").map(Number);
  if (!storableInstant(ms) || !Number.isSafeInteger(id))
    throw new ValidationError("cursor is not a cursor this API returned", { field: "cursor" }, 422);
  return { ms, id };
}

/**
 * The statement of one /events page, exported so a test can EXPLAIN it: one row per event of the page,
 * or one all-null row when the user has none, or no row when the user does not exist. The keyset is a
 * row comparison, which the (user_id, ts_utc DESC, id DESC) index serves as a range start.
 */
export function eventsPageQuery(userId: string, query: EventsQuery): { text: string; params: unknown[] } {
  const params: unknown[] = [userId, (query.limit ?? 100) + 1];
  let conditions = rangeSql(query.from, query.to, params);
  if (query.eventType) conditions += ` and event_type = $${params.push(query.eventType)}`;
  if (query.cursor) {
    const { ms, id } = parseCursor(query.cursor);
    conditions += ` and (ts_utc, id) < ($${params.push(new Date(ms).toISOString())}::timestamptz, $${params.push(id)}::bigint)`;
  }
  const text = `select e.id, e.event_type, e.ts_ms, e.meta from users u left join lateral (
    select id, event_type, (extract(epoch from ts_utc) * 1000)::float8 as ts_ms, meta from events
    where user_id = $1${conditions} order by ts_utc desc, id desc limit $2) e on true
  where u.user_id = $1`;
  return { text, params };
}

/** Newest first by tsUtc (then id); the cursor is `<epoch ms>.<id>` of the last row. */
export async function listEvents(userId: string, query: EventsQuery) {
  const limit = query.limit ?? 100;
  const { text, params } = eventsPageQuery(userId, query);
  const found = await rawQuery(text, params);
  if (found.length === 0) throw new UnauthorizedError(USER_GONE);
  const rows = found
    .filter((row) => row.id !== null)
    .map((row) => ({
      id: Number(row.id),
      eventType: row.event_type as string,
      ms: Number(row.ts_ms),
      meta: row.meta as string | null,
    }));
  // the subquery's LIMIT picked the right rows; SQL does not promise the join keeps their order, so sort the <= 101 here
  rows.sort((a, b) => b.ms - a.ms || b.id - a.id);
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    events: page.map((row) => ({
      eventId: row.id,
      eventType: row.eventType,
      tsUtc: new Date(row.ms).toISOString(),
      meta: row.meta,
    })),
    nextCursor: rows.length > limit ? `${last.ms}.${last.id}` : null,
  };
}

type ByType = { eventType: string; count: number }[];

function summary(byType: ByType) {
  return {
    totalEvents: byType.reduce((sum, row) => sum + row.count, 0),
    byType,
    deeplinks: byType.find((row) => row.eventType === DEEPLINK_EVENT)?.count ?? 0,
  };
}

/** Counts per event type of one user; a user that does not exist (deleted) is a 401. */
export async function userEventStats(userId: string, from?: string, to?: string) {
  const params: unknown[] = [userId];
  const conditions = rangeSql(from, to, params);
  const rows = await rawQuery(
    `select c.event_type, c.count from users u left join lateral (
      select event_type, count(*)::int as count from events where user_id = $1${conditions} group by event_type) c on true
    where u.user_id = $1 order by c.count desc, c.event_type`,
    params,
  );
  if (rows.length === 0) throw new UnauthorizedError(USER_GONE);
  const byType = rows
    .filter((row) => row.event_type !== null)
    .map((row) => ({ eventType: row.event_type as string, count: Number(row.count) }));
  return { scope: "user" as const, ...summary(byType) };
}

/** Counts per event type of everyone, and the registered users (one statement, ts_utc ranges by index). */
export async function globalEventStats(from?: string, to?: string) {
  const params: unknown[] = [];
  const conditions = rangeSql(from, to, params);
  const [byTypeRows, [{ total }]] = await Promise.all([
    rawQuery(
      `select event_type, count(*)::int as count from events where true${conditions} group by event_type order by count desc, event_type`,
      params,
    ),
    rawQuery("select count(*)::int as total from users", []),
  ]);
  const byType = byTypeRows.map((row) => ({ eventType: row.event_type as string, count: Number(row.count) }));
  return { scope: "global" as const, ...summary(byType), users: Number(total) };
}

/** A deeplink click becomes a deeplink_open event of user af_id (or "anon"). */
export async function recordDeeplink(query: TrackQuery): Promise<number> {
  const meta = JSON.stringify({
    campaign: query.campaign,
    character: query.character ?? null,
    source: query.source ?? null,
  });
  const [row] = await db
    .insert(events)
    .values({
      userId: query.af_id === undefined ? "anon" : normaliseUserId(query.af_id, "af_id"),
      eventType: DEEPLINK_EVENT,
      tsUtc: new Date(),
      meta,
    })
    .returning({ id: events.id });
  return row.id;
}
