/**
 * The wallet's rules as a pure function: how one user's requests, in arrival order, are judged
 * against the balance and the Idempotency-Keys already in the ledger. The server runs the same rules
 * inside PostgreSQL (drizzle/0003_wallet_apply.sql: one round trip per group commit); this is their
 * readable statement, and test/wallet-ledger.test.ts checks the SQL against it on random histories.
 */
import type { WalletOp } from "./repository";

/** A ledger entry already stored under an Idempotency-Key. */
export interface KeyedEntry {
  amount: number;
  reason: string | null;
  balanceAfter: number;
  txId: number;
}

/** What a request comes to, before the database assigns txIds to the applied ones. */
export type PlannedOutcome =
  | { kind: "applied"; amount: number; balance: number }
  | { kind: "replayed"; txId: number; amount: number; balance: number }
  | { kind: "insufficient_funds"; balance: number; amount: number }
  | { kind: "idempotency_mismatch" }
  | { kind: "unknown_user" };

/**
 * Judges one user's ops in order. `balance` undefined = no such user. `known` holds the user's keyed
 * entries by key. Rules: a known key replays its entry when amount and reason match, else it is a
 * mismatch (nothing written); a spend below zero is refused with the balance it met (nothing
 * written, so the key stays free); anything else is applied and moves the balance.
 */
export function planUser(
  balance: number | undefined,
  ops: WalletOp[],
  known: ReadonlyMap<string, KeyedEntry>,
): PlannedOutcome[] {
  if (balance === undefined) return ops.map(() => ({ kind: "unknown_user" }));
  let running = balance;
  return ops.map((op): PlannedOutcome => {
    const previous = op.idempotencyKey === null ? undefined : known.get(op.idempotencyKey);
    if (previous) {
      if (previous.amount !== op.amount || previous.reason !== op.reason) return { kind: "idempotency_mismatch" };
      return {
        kind: "replayed",
        txId: previous.txId,
        amount: Math.abs(previous.amount),
        balance: previous.balanceAfter,
      };
    }
    if (running + op.amount < 0) return { kind: "insufficient_funds", balance: running, amount: -op.amount };
    running += op.amount;
    return { kind: "applied", amount: Math.abs(op.amount), balance: running };
  });
}
