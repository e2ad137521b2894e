/** Every table of the service. TS keys are camelCase, columns snake_case. */
import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  check,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";

export const users = pgTable(
  "users",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    userId: text("user_id").notNull().unique(),
    balance: bigint("balance", { mode: "number" }).notNull().default(0),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [check("users_balance_non_negative", sql`${table.balance} >= 0`)],
);

/** Immutable: rows are only inserted; a correction is a new entry. */
export const walletLedger = pgTable(
  "wallet_ledger",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.userId),
    /** positive for earns, negative for spends */
    amount: integer("amount").notNull(),
    reason: text("reason"),
    balanceAfter: bigint("balance_after", { mode: "number" }).notNull(),
    idempotencyKey: text("idempotency_key"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex("wallet_ledger_user_key_uq").on(table.userId, table.idempotencyKey),
    // DESC NULLS FIRST = the order of `ORDER BY id DESC`, so a ledger page is read in index order (0002)
    index("wallet_ledger_user_id_idx").on(table.userId, table.id.desc().nullsFirst()),
  ],
);

export const events = pgTable(
  "events",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    userId: text("user_id").notNull(),
    eventType: text("event_type").notNull(),
    tsUtc: timestamp("ts_utc", { withTimezone: true, mode: "date" }).notNull(),
    meta: text("meta"),
    idempotencyKey: text("idempotency_key"),
    /** what the keyed request asked for, so a reuse with another body is a 422 */
    requestHash: text("request_hash"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    // DESC NULLS FIRST = the order of `ORDER BY ts_utc DESC, id DESC`, so an events page is read in index order (0002)
    index("events_user_ts_idx").on(table.userId, table.tsUtc.desc().nullsFirst(), table.id.desc().nullsFirst()),
    index("events_ts_type_idx").on(table.tsUtc, table.eventType),
    index("events_event_type_idx").on(table.eventType),
    uniqueIndex("events_user_key_uq").on(table.userId, table.idempotencyKey),
  ],
);

/** AppsFlyer Push API records, append-only (a trigger refuses UPDATE and DELETE); one row per purchase key. */
export const afPostbacks = pgTable(
  "af_postbacks",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    /** SHA-256 of SPEC 4 rule 3's dedupe key: appsflyer_id, event time to the second, event name, revenue */
    purchaseKey: text("purchase_key").notNull(),
    appsflyerId: text("appsflyer_id").notNull(),
    eventName: text("event_name").notNull(),
    eventTime: timestamp("event_time", { withTimezone: true, mode: "date" }).notNull(),
    /** exact, as sent; null for events without revenue */
    eventRevenueUsd: numeric("event_revenue_usd"),
    campaign: text("campaign"),
    mediaSource: text("media_source"),
    /** from event_value's af_receipt_id (else receipt_id, else af_order_id) */
    receiptId: text("receipt_id"),
    /** the whole record as received */
    record: jsonb("record").notNull(),
    receivedAt: timestamp("received_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex("af_postbacks_purchase_key_uq").on(table.purchaseKey),
    index("af_postbacks_event_time_idx").on(table.eventTime, table.id),
  ],
);

/** Every pipeline run started over HTTP or from the CLI; at most one is running at a time. */
export const pipelineRuns = pgTable(
  "pipeline_runs",
  {
    id: uuid("id").primaryKey(),
    /** insertion order, the keyset of GET /pipeline/runs */
    seq: bigserial("seq", { mode: "number" }).notNull().unique(),
    trigger: text("trigger").notNull().$type<"http" | "cli">(),
    status: text("status").notNull().$type<"running" | "succeeded" | "failed">(),
    startedAt: timestamp("started_at", { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
    stages: jsonb("stages").notNull().default(sql`'[]'::jsonb`).$type<{ name: string; ms: number; rows: number }[]>(),
    summary: jsonb("summary").$type<Record<string, unknown>>(),
    errors: jsonb("errors").notNull().default(sql`'[]'::jsonb`).$type<{ code: string; message: string }[]>(),
    /** host and pid of the process that ran it */
    instance: text("instance"),
  },
  (table) => [
    check("pipeline_runs_trigger_check", sql`${table.trigger} IN ('http', 'cli')`),
    check("pipeline_runs_status_check", sql`${table.status} IN ('running', 'succeeded', 'failed')`),
    uniqueIndex("pipeline_runs_one_running_uq").on(table.status).where(sql`${table.status} = 'running'`),
  ],
);

export type UserRow = typeof users.$inferSelect;
export type LedgerRow = typeof walletLedger.$inferSelect;
export type EventRow = typeof events.$inferSelect;
export type PipelineRunRow = typeof pipelineRuns.$inferSelect;
