/** Every table of the service. TS keys are camelCase, columns snake_case. */
import { sql } from "drizzle-orm";
import { bigint, bigserial, check, index, integer, pgTable, text, timestamp, uniqueIndex } from "drizzle-orm/pg-core";

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

export type UserRow = typeof users.$inferSelect;
export type LedgerRow = typeof walletLedger.$inferSelect;
export type EventRow = typeof events.$inferSelect;
