/** planUser (the wallet's rules, pure) on hand-checked cases, and wallet_apply (the same rules in SQL) checked against it. */
import { describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import fc from "fast-check";
import { db, execute } from "../src/db/client";
import { users } from "../src/db/schema";
import { type KeyedEntry, planUser } from "../src/modules/wallet/ledger";
import { applyBatches, type UserBatch, type WalletOp } from "../src/modules/wallet/repository";
import { uniqueUser } from "./helpers";

const op = (amount: number, idempotencyKey: string | null = null, reason: string | null = null): WalletOp => ({
  amount,
  reason,
  idempotencyKey,
});

describe("planUser", () => {
  test("earns and spends move the running balance; a spend below zero is refused with the balance it met", () => {
    expect(planUser(5, [op(10), op(-12), op(-4), op(1)], new Map())).toEqual([
      { kind: "applied", amount: 10, balance: 15 },
      { kind: "applied", amount: 12, balance: 3 },
      { kind: "insufficient_funds", balance: 3, amount: 4 },
      { kind: "applied", amount: 1, balance: 4 },
    ]);
  });

  test("a known key replays its entry when amount and reason match, else it is a mismatch; neither moves the balance", () => {
    const known = new Map<string, KeyedEntry>([["k", { amount: -7, reason: "sword", balanceAfter: 93, txId: 41 }]]);
    expect(
      planUser(50, [op(-7, "k", "sword"), op(-7, "k", "shield"), op(7, "k", "sword"), op(1, "other")], known),
    ).toEqual([
      { kind: "replayed", txId: 41, amount: 7, balance: 93 },
      { kind: "idempotency_mismatch" },
      { kind: "idempotency_mismatch" },
      { kind: "applied", amount: 1, balance: 51 },
    ]);
  });

  test("no such user: every request is unknown_user", () => {
    expect(planUser(undefined, [op(1), op(-1, "k")], new Map())).toEqual([
      { kind: "unknown_user" },
      { kind: "unknown_user" },
    ]);
  });
});

/** One group commit: some of the users, each with 1-4 ops whose keys are distinct (as the engine sends them). */
const opArb = fc.record({
  amount: fc.integer({ min: -30, max: 30 }).filter((n) => n !== 0),
  idempotencyKey: fc.option(fc.constantFrom("k1", "k2", "k3", "k4"), { nil: null }),
  reason: fc.constantFrom(null, "quest", "shop"),
});
const groupArb = fc.uniqueArray(
  fc.record({
    user: fc.integer({ min: 0, max: 3 }),
    ops: fc.uniqueArray(opArb, { minLength: 1, maxLength: 4, selector: (o) => o.idempotencyKey ?? Math.random() }),
  }),
  { minLength: 1, maxLength: 4, selector: (b) => b.user },
);

describe("wallet_apply (drizzle/0003_wallet_apply.sql)", () => {
  test("judges random histories of group commits exactly as planUser, and keeps balance == sum(ledger)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(groupArb, { minLength: 1, maxLength: 8 }), async (groups) => {
        // users 0-2 exist (balance 0), user 3 does not
        const ids = Array.from({ length: 4 }, () => uniqueUser("model"));
        await db.insert(users).values(ids.slice(0, 3).map((userId) => ({ userId })));
        const balances = new Map(ids.slice(0, 3).map((id) => [id, 0]));
        const known = new Map(ids.map((id) => [id, new Map<string, KeyedEntry>()]));
        for (const group of groups) {
          const batches: UserBatch[] = group.map((b) => ({ userId: ids[b.user], ops: b.ops }));
          const expected = batches.map((b) => planUser(balances.get(b.userId), b.ops, known.get(b.userId)!));
          const actual = await applyBatches(batches, false);
          batches.forEach((batch, i) => {
            const got = actual[i];
            if (got === "busy") throw new Error("no other transaction holds these rows");
            expect(got.map(({ kind }) => kind)).toEqual(expected[i].map(({ kind }) => kind));
            got.forEach((outcome, j) => {
              const planned = expected[i][j];
              if (planned.kind === "applied" && outcome.kind === "applied") {
                expect([outcome.amount, outcome.balance]).toEqual([planned.amount, planned.balance]);
                balances.set(batch.userId, planned.balance);
                const { amount, reason, idempotencyKey } = batch.ops[j];
                if (idempotencyKey !== null)
                  known
                    .get(batch.userId)!
                    .set(idempotencyKey, { amount, reason, balanceAfter: planned.balance, txId: outcome.txId });
              } else expect(outcome).toEqual(planned as never);
            });
          });
        }
        const list = await execute<{ user_id: string; balance: string; ledger: string }>(
          db,
          sql`select u.user_id, u.balance::text as balance,
            coalesce((select sum(amount) from wallet_ledger l where l.user_id = u.user_id), 0)::text as ledger
            from users u where u.user_id in ${ids}`,
        );
        for (const row of list) {
          expect(row.balance).toBe(row.ledger);
          expect(Number(row.balance)).toBe(balances.get(row.user_id)!);
        }
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 40) },
    );
  });
});
