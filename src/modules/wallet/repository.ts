/**
 * The SQL of the earn path: one transaction applies the drained mailboxes of one or more users.
 * Rows are locked in users.id order, so two server processes never deadlock on each other.
 */
import { and, desc, eq, lt } from "drizzle-orm";
import { db, rawQuery, rawTransaction, type RawQuery } from "../../db/client";
import { walletLedger } from "../../db/schema";

/** One earn (amount > 0) or spend (amount < 0) request waiting in a user's mailbox. */
export interface WalletOp {
  amount: number;
  reason: string | null;
  idempotencyKey: string | null;
}

/** What one request gets back: its ledger entry, or why it was refused. */
export type OpOutcome =
  | { kind: "applied" | "replayed"; txId: number; amount: number; balance: number }
  | { kind: "insufficient_funds"; balance: number; amount: number }
  | { kind: "idempotency_mismatch" }
  | { kind: "unknown_user" };

/** A user's drained mailbox: ops in arrival order. */
export interface UserBatch {
  userId: string;
  ops: WalletOp[];
}

interface PendingRow {
  userId: string;
  amount: number;
  reason: string | null;
  balanceAfter: number;
  idempotencyKey: string | null;
  txId?: number;
}

/** A batch whose user row another transaction holds: the caller retries it in a transaction of its own. */
export const BUSY = "busy" as const;

// Plain SQL on the driver, not drizzle: this runs for every earn, and building drizzle queries cost a
// quarter of the server's CPU under load. Every statement has one text whatever the batch size
// (arrays, not VALUES lists), so each is a prepared statement parsed once per connection.
const LOCK_USERS = "select id, user_id, balance from users where user_id = any($1::text[]) order by id for update";
const LOCK_USERS_SKIP_LOCKED = `${LOCK_USERS} skip locked`;
const EXISTING_USERS = "select user_id from users where user_id = any($1::text[])";
const FIND_KEYS = `select l.user_id, l.idempotency_key, l.amount, l.reason, l.balance_after, l.id
  from wallet_ledger l join unnest($1::text[], $2::text[]) as k(user_id, idempotency_key)
  on l.user_id = k.user_id and l.idempotency_key = k.idempotency_key`;
const INSERT_LEDGER = `insert into wallet_ledger (user_id, amount, reason, balance_after, idempotency_key)
  select * from unnest($1::text[], $2::int[], $3::text[], $4::bigint[], $5::text[])
  returning id, user_id, balance_after`;
const UPDATE_BALANCES = `update users set balance = v.balance
  from unnest($1::text[], $2::bigint[]) as v(user_id, balance) where users.user_id = v.user_id`;
const READ_BALANCES = "select user_id, balance from users where user_id = any($1::text[])";

type Row = Record<string, unknown>;

/**
 * Applies every batch in ONE transaction and returns one outcome per op, batch by batch.
 * With `wait` false, rows locked elsewhere (another server process, a manual transaction) are skipped
 * and their batches come back BUSY, so one contended user never stalls the others of a group.
 * Round trips: lock + key lookup together, then ledger insert + balance update together, then commit.
 */
export async function applyBatches(batches: UserBatch[], wait: boolean): Promise<(OpOutcome[] | typeof BUSY)[]> {
  return rawTransaction(async (query) => {
    const userIds = batches.map((b) => b.userId);
    // sent together: the server runs them in order, so the key lookup sees every row committed before our lock
    const [locked, keyRows] = await Promise.all([query(wait ? LOCK_USERS : LOCK_USERS_SKIP_LOCKED, [userIds]), lookupKeys(query, batches)]);
    const balances = new Map(locked.map((row) => [row.user_id as string, Number(row.balance)]));
    const busy = wait ? new Set<string>() : await lockedElsewhere(query, userIds, balances);
    const known = new Map<string, KeyedRow>();
    for (const row of keyRows) {
      const keyed = { amount: Number(row.amount), reason: row.reason as string | null, balanceAfter: Number(row.balance_after), txId: Number(row.id) };
      known.set(scopedKey(row.user_id as string, row.idempotency_key as string), keyed);
    }

    const rows: PendingRow[] = [];
    const plans = new Map<string, ReturnType<typeof planUser>>();
    for (const batch of batches) if (!busy.has(batch.userId)) plans.set(batch.userId, planUser(batch, balances.get(batch.userId), known, rows));
    if (rows.length > 0) {
      const changed = [...plans.values()].filter((p) => p.balance !== balances.get(p.userId));
      const [inserted] = await Promise.all([
        query(INSERT_LEDGER, [rows.map((r) => r.userId), rows.map((r) => r.amount), rows.map((r) => r.reason), rows.map((r) => r.balanceAfter), rows.map((r) => r.idempotencyKey)]),
        query(UPDATE_BALANCES, [changed.map((p) => p.userId), changed.map((p) => p.balance)]),
      ]);
      inserted.forEach((row, i) => {
        // RETURNING follows the unnest order; checked, because every txId we answer depends on it
        if (row.user_id !== rows[i].userId || Number(row.balance_after) !== rows[i].balanceAfter) throw new Error("ledger RETURNING order mismatch");
        rows[i].txId = Number(row.id);
      });
    }
    return batches.map((batch) => {
      const plan = plans.get(batch.userId);
      return plan ? plan.outcomes.map((outcome) => outcome()) : BUSY;
    });
  });
}

/** Of the users SKIP LOCKED left out, those whose row exists (so it is locked, not missing). */
async function lockedElsewhere(query: RawQuery, userIds: string[], lockedRows: Map<string, unknown>): Promise<Set<string>> {
  const missing = userIds.filter((id) => !lockedRows.has(id));
  if (missing.length === 0) return new Set();
  const existing = await query(EXISTING_USERS, [missing]);
  return new Set(existing.map((row) => row.user_id as string));
}

type KeyedRow = { amount: number; reason: string | null; balanceAfter: number; txId?: number };

/** Ledger rows of the (user, Idempotency-Key) pairs in these batches; no query when no op has a key. */
async function lookupKeys(query: RawQuery, batches: UserBatch[]): Promise<Row[]> {
  const pairs = batches.flatMap((b) => b.ops.filter((op) => op.idempotencyKey !== null).map((op) => [b.userId, op.idempotencyKey!] as const));
  if (pairs.length === 0) return [];
  return query(FIND_KEYS, [pairs.map((p) => p[0]), pairs.map((p) => p[1])]);
}

const scopedKey = (userId: string, key: string) => `${userId}\u0000${key}`;

/** Walks one user's ops in order against the running balance; outcomes resolve after the insert assigns txIds. */
function planUser(batch: UserBatch, startBalance: number | undefined, known: Map<string, KeyedRow>, rows: PendingRow[]) {
  let balance = startBalance ?? 0;
  const outcomes: (() => OpOutcome)[] = [];
  for (const op of batch.ops) {
    if (startBalance === undefined) {
      outcomes.push(() => ({ kind: "unknown_user" }));
      continue;
    }
    const key = op.idempotencyKey === null ? null : scopedKey(batch.userId, op.idempotencyKey);
    const previous = key === null ? undefined : known.get(key);
    if (previous) {
      const same = previous.amount === op.amount && (previous.reason ?? null) === op.reason;
      outcomes.push(() =>
        same
          ? { kind: "replayed", txId: previous.txId!, amount: Math.abs(previous.amount), balance: previous.balanceAfter }
          : { kind: "idempotency_mismatch" },
      );
      continue;
    }
    if (balance + op.amount < 0) {
      const refusedAt = balance;
      outcomes.push(() => ({ kind: "insufficient_funds", balance: refusedAt, amount: -op.amount }));
      continue;
    }
    balance += op.amount;
    const row: PendingRow = { userId: batch.userId, amount: op.amount, reason: op.reason, balanceAfter: balance, idempotencyKey: op.idempotencyKey };
    rows.push(row);
    if (key !== null) known.set(key, row);
    outcomes.push(() => ({ kind: "applied", txId: row.txId!, amount: Math.abs(row.amount), balance: row.balanceAfter }));
  }
  return { userId: batch.userId, balance, outcomes };
}

const BALANCE_BATCH_MAX = 1000;
type BalanceWaiter = { resolve: (balance: number | undefined) => void; reject: (error: unknown) => void };
let balanceWaiters = new Map<string, BalanceWaiter[]>();
let balanceFlushScheduled = false;

/**
 * The committed balance, or undefined for an unknown user. Reads arriving in the same tick share one
 * `where user_id in (...)` query: under load, one round trip answers hundreds of /balance requests.
 */
export function readBalance(userId: string): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const waiters = balanceWaiters.get(userId);
    if (waiters) waiters.push({ resolve, reject });
    else balanceWaiters.set(userId, [{ resolve, reject }]);
    if (balanceWaiters.size >= BALANCE_BATCH_MAX) void flushBalances();
    else if (!balanceFlushScheduled) {
      balanceFlushScheduled = true;
      setImmediate(flushBalances);
    }
  });
}

async function flushBalances(): Promise<void> {
  balanceFlushScheduled = false;
  const batch = balanceWaiters;
  if (batch.size === 0) return;
  balanceWaiters = new Map();
  try {
    const rows = await rawQuery(READ_BALANCES, [[...batch.keys()]]);
    const found = new Map(rows.map((row) => [row.user_id as string, Number(row.balance)]));
    for (const [userId, waiters] of batch) for (const waiter of waiters) waiter.resolve(found.get(userId));
  } catch (error) {
    for (const waiters of batch.values()) for (const waiter of waiters) waiter.reject(error);
  }
}

/** Newest first; `before` is the txId cursor of the previous page. */
export async function readLedger(userId: string, limit: number, before?: number) {
  return db
    .select()
    .from(walletLedger)
    .where(before === undefined ? eq(walletLedger.userId, userId) : and(eq(walletLedger.userId, userId), lt(walletLedger.id, before)))
    .orderBy(desc(walletLedger.id))
    .limit(limit);
}

