/** Gameplay events: store, list (keyset), count; deeplink clicks are events too. */
import { and, count, desc, eq, gte, lt, lte, or, sql, type SQL } from "drizzle-orm";
import { db } from "../../db/client";
import { events, users } from "../../db/schema";
import { AppError, ValidationError } from "../../errors";
import type { EventBody, EventsQuery, TrackQuery } from "./model";

export const DEEPLINK_EVENT = "deeplink_open";

/** Parses a pattern-checked ISO 8601 timestamp, rejecting impossible dates such as 2025-02-30. */
export function parseTimestamp(value: string, field: string): Date {
  const [, y, mo, d, h, mi, s] = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})/.exec(value) ?? [];
  const daysInMonth = new Date(Date.UTC(Number(y), Number(mo), 0)).getUTCDate();
  const date = new Date(value);
  const valid = Number(mo) >= 1 && Number(mo) <= 12 && Number(d) >= 1 && Number(d) <= daysInMonth && Number(h) < 24 && Number(mi) < 60 && Number(s) < 60;
  const offset = /([+-])(\d{2}):(\d{2})$/.exec(value);
  if (!valid || Number.isNaN(date.getTime()) || (offset && (Number(offset[2]) > 23 || Number(offset[3]) > 59))) {
    throw new ValidationError(`${field} is not a real date and time`, { field, value }, 422);
  }
  return date;
}

/** Stores one event; with an Idempotency-Key, a retry returns the first eventId and a different body is a 422. */
export async function recordEvent(userId: string, body: EventBody, idempotencyKey: string | null): Promise<{ eventId: number; replayed: boolean }> {
  const tsUtc = body.timestampUtc ? parseTimestamp(body.timestampUtc, "timestampUtc") : new Date();
  const requestHash = idempotencyKey === null ? null : JSON.stringify([body.eventType, body.meta ?? null, body.timestampUtc ?? null]);
  const [inserted] = await db
    .insert(events)
    .values({ userId, eventType: body.eventType, tsUtc, meta: body.meta ?? null, idempotencyKey, requestHash })
    .onConflictDoNothing({ target: [events.userId, events.idempotencyKey] })
    .returning({ id: events.id });
  if (inserted) return { eventId: inserted.id, replayed: false };
  const [first] = await db
    .select({ id: events.id, requestHash: events.requestHash })
    .from(events)
    .where(and(eq(events.userId, userId), eq(events.idempotencyKey, idempotencyKey!)));
  if (first.requestHash !== requestHash) {
    throw new AppError(422, "idempotency_key_reused", "this Idempotency-Key was used with a different request body", { field: "Idempotency-Key" });
  }
  return { eventId: first.id, replayed: true };
}

function range(from?: string, to?: string): SQL[] {
  const filters: SQL[] = [];
  if (from) filters.push(gte(events.tsUtc, parseTimestamp(from, "from")));
  if (to) filters.push(lte(events.tsUtc, parseTimestamp(to, "to")));
  return filters;
}

/** Newest first by tsUtc (then id); the cursor is `<epoch ms>.<id>` of the last row. */
export async function listEvents(userId: string, query: EventsQuery) {
  const limit = query.limit ?? 100;
  const filters = [eq(events.userId, userId), ...range(query.from, query.to)];
  if (query.eventType) filters.push(eq(events.eventType, query.eventType));
  if (query.cursor) {
    const [ms, id] = query.cursor.split(".").map(Number);
    const ts = new Date(ms);
    filters.push(or(lt(events.tsUtc, ts), and(eq(events.tsUtc, ts), lt(events.id, id)))!);
  }
  const rows = await db
    .select({ id: events.id, eventType: events.eventType, tsUtc: events.tsUtc, meta: events.meta })
    .from(events)
    .where(and(...filters))
    .orderBy(desc(events.tsUtc), desc(events.id))
    .limit(limit + 1);
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    events: page.map((row) => ({ eventId: row.id, eventType: row.eventType, tsUtc: row.tsUtc.toISOString(), meta: row.meta })),
    nextCursor: rows.length > limit ? `${last.tsUtc.getTime()}.${last.id}` : null,
  };
}

/** Counts per event type for one user, or for everyone when userId is undefined. */
export async function eventStats(userId: string | undefined, from?: string, to?: string) {
  const filters = range(from, to);
  if (userId !== undefined) filters.push(eq(events.userId, userId));
  const byType = await db
    .select({ eventType: events.eventType, count: count() })
    .from(events)
    .where(filters.length ? and(...filters) : undefined)
    .groupBy(events.eventType)
    .orderBy(desc(count()), events.eventType);
  const totalEvents = byType.reduce((sum, row) => sum + row.count, 0);
  const deeplinks = byType.find((row) => row.eventType === DEEPLINK_EVENT)?.count ?? 0;
  if (userId !== undefined) return { scope: "user" as const, totalEvents, byType, deeplinks };
  const [{ total }] = await db.select({ total: sql<number>`count(*)::int` }).from(users);
  return { scope: "global" as const, totalEvents, byType, users: total, deeplinks };
}

/** A deeplink click becomes a deeplink_open event of user af_id (or "anon"). */
export async function recordDeeplink(query: TrackQuery): Promise<number> {
  const meta = JSON.stringify({ campaign: query.campaign, character: query.character ?? null, source: query.source ?? null });
  const [row] = await db
    .insert(events)
    .values({ userId: query.af_id ?? "anon", eventType: DEEPLINK_EVENT, tsUtc: new Date(), meta })
    .returning({ id: events.id });
  return row.id;
}
