/**
 * The SQL of the earn path: one statement (its own transaction) applies the drained mailboxes of one or more users.
 * Rows are locked in users.id order, so two server processes never deadlock on each other.
 */
import { and, desc, eq, lt } from "drizzle-orm";
import { db, rawQuery } from "../../db/client";
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

/** A batch whose user row another transaction holds: the caller retries it in a transaction of its own. */
export const BUSY = "busy" as const;

// One statement, one round trip, its own transaction (autocommit): the server-side function of
// drizzle/0003_wallet_apply.sql locks, plans, inserts and updates, and returns one row per op.
// Plain SQL on the driver, not drizzle: this runs for every group commit.
const APPLY = `select outcome, tx_id, amount, balance
  from wallet_apply($1::text[], $2::int[], $3::int[], $4::text[], $5::text[], $6::boolean)`;
const READ_BALANCES = "select user_id, balance from users where user_id = any($1::text[])";

/** wallet_apply's outcome codes, in the order the function numbers them. */
const OUTCOMES = ["applied", "replayed", "insufficient_funds", "idempotency_mismatch", "unknown_user", BUSY] as const;

type ApplyRow = {
  outcome: number;
  tx_id: string | number | null;
  amount: number | null;
  balance: string | number | null;
};

/**
 * Applies every batch in ONE statement and returns one outcome per op, batch by batch.
 * With `wait` false, rows locked elsewhere (another server process, a manual transaction) are skipped
 * and their batches come back BUSY (nothing of theirs applied), so one contended user never stalls
 * the others of a group. The caller never puts two ops with the same Idempotency-Key in one batch.
 */
export async function applyBatches(batches: UserBatch[], wait: boolean): Promise<(OpOutcome[] | typeof BUSY)[]> {
  const userIds: string[] = [];
  const opUser: number[] = [];
  const amounts: number[] = [];
  const reasons: (string | null)[] = [];
  const keys: (string | null)[] = [];
  for (let b = 0; b < batches.length; b++) {
    userIds.push(batches[b].userId);
    for (const op of batches[b].ops) {
      opUser.push(b + 1);
      amounts.push(op.amount);
      reasons.push(op.reason);
      keys.push(op.idempotencyKey);
    }
  }
  const rows = await rawQuery<ApplyRow>(APPLY, [userIds, opUser, amounts, reasons, keys, wait]);
  if (rows.length !== opUser.length)
    throw new Error(`wallet_apply returned ${rows.length} outcomes for ${opUser.length} ops`);
  let next = 0;
  return batches.map((batch) => {
    const outcomes: OpOutcome[] = [];
    for (let i = 0; i < batch.ops.length; i++) {
      const row = rows[next++];
      const kind = OUTCOMES[row.outcome];
      if (kind === BUSY) {
        next += batch.ops.length - i - 1; // a busy user's ops are all busy: nothing of theirs was applied
        return BUSY;
      }
      outcomes.push(toOutcome(kind, row));
    }
    return outcomes;
  });
}

function toOutcome(kind: Exclude<(typeof OUTCOMES)[number], typeof BUSY>, row: ApplyRow): OpOutcome {
  switch (kind) {
    case "applied":
    case "replayed":
      return { kind, txId: Number(row.tx_id), amount: Number(row.amount), balance: Number(row.balance) };
    case "insufficient_funds":
      return { kind, balance: Number(row.balance), amount: Number(row.amount) };
    default:
      return { kind };
  }
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
    .where(
      before === undefined
        ? eq(walletLedger.userId, userId)
        : and(eq(walletLedger.userId, userId), lt(walletLedger.id, before)),
    )
    .orderBy(desc(walletLedger.id))
    .limit(limit);
}
