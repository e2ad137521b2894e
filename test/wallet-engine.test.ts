/** The wallet engine on the real database: mailbox limits, group commit, and the append-only ledger. */
import { describe, expect, test } from "bun:test";
import { eq, sql } from "drizzle-orm";
import { db, driver } from "../src/db/client";
import { users, walletLedger } from "../src/db/schema";
import { OverloadedError } from "../src/errors";
import { ensureUser } from "../src/modules/auth/service";
import { WalletEngine } from "../src/modules/wallet/engine";
import { RateLimiter } from "../src/modules/wallet/rate-limit";
import { applyBatches } from "../src/modules/wallet/repository";
import { uniqueUser } from "./helpers";

const earn = (amount: number) => ({ amount, reason: null, idempotencyKey: null });

describe("WalletEngine", () => {
  test("a full mailbox answers 429 with Retry-After and loses none of the accepted requests", async () => {
    const engine = new WalletEngine({ batchMax: 10, groupMax: 64, concurrency: 1, mailboxMax: 5, timeoutMs: 0 });
    const userId = uniqueUser("flood");
    await ensureUser(userId);
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => engine.submit(userId, earn(10))));
    // the first request is taken by the drain at once, five wait in the mailbox, the rest are refused
    const accepted = results.filter((r) => r.status === "fulfilled");
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(accepted).toHaveLength(6);
    expect(refused).toHaveLength(14);
    for (const r of refused) {
      expect(r.reason).toBeInstanceOf(OverloadedError);
      expect(r.reason.status).toBe(429);
      expect(r.reason.headers).toEqual({ "Retry-After": "1" });
    }
    const [row] = await db.select({ balance: users.balance }).from(users).where(eq(users.userId, userId));
    expect(row.balance).toBe(60);
  });

  test("other users are unaffected by one user's flood", async () => {
    const engine = new WalletEngine({ batchMax: 10, groupMax: 64, concurrency: 1, mailboxMax: 2, timeoutMs: 0 });
    const flooded = uniqueUser("flood");
    const calm = uniqueUser("calm");
    await ensureUser(flooded);
    await ensureUser(calm);
    const flood = Promise.allSettled(Array.from({ length: 50 }, () => engine.submit(flooded, earn(1))));
    const result = await engine.submit(calm, earn(7));
    expect(result.balance).toBe(7);
    await flood;
  });

  test("the drains of many users share one transaction (group commit)", async () => {
    const engine = new WalletEngine({ batchMax: 256, groupMax: 64, concurrency: 1, mailboxMax: 100, timeoutMs: 0 });
    const userIds = Array.from({ length: 50 }, () => uniqueUser("group"));
    for (const userId of userIds) await ensureUser(userId);
    const results = await Promise.all(
      userIds.flatMap((userId) => [engine.submit(userId, earn(5)), engine.submit(userId, earn(6))]),
    );
    // submitted in one tick, sent after it: commit 1 = the 50 users' first requests (each user's second one
    // waits in its mailbox while the first is in flight), commit 2 = the 50 second ones
    expect(engine.stats.commits).toBe(2);
    expect(engine.stats.batches).toBe(100);
    expect(results.filter((r) => r.balance === 11)).toHaveLength(50);
    const rows = await db.select({ balance: users.balance }).from(users).where(sql`${users.userId} in ${userIds}`);
    expect(rows.every((r) => r.balance === 11)).toBe(true);
  });

  test("EARN_BATCH_MAX=1 and GROUP_COMMIT_MAX=1: one request per transaction", async () => {
    const engine = new WalletEngine({ batchMax: 1, groupMax: 1, concurrency: 4, mailboxMax: 100, timeoutMs: 0 });
    const userId = uniqueUser("naive");
    await ensureUser(userId);
    const results = await Promise.all(Array.from({ length: 10 }, () => engine.submit(userId, earn(100))));
    expect(engine.stats.commits).toBe(10);
    expect(Math.max(...results.map((r) => r.balance))).toBe(1000);
  });

  test("shutdown waits for every queued request and then refuses new ones with 503", async () => {
    const engine = new WalletEngine({ batchMax: 2, groupMax: 1, concurrency: 1, mailboxMax: 100, timeoutMs: 0 });
    const userId = uniqueUser("drain");
    await ensureUser(userId);
    const pending = Array.from({ length: 9 }, () => engine.submit(userId, earn(1)));
    await engine.shutdown();
    const settled = await Promise.allSettled(pending);
    expect(settled.every((r) => r.status === "fulfilled")).toBe(true);
    expect(engine.depth()).toEqual({ actors: 0, queued: 0, inFlight: 0 });
    await expect(engine.submit(userId, earn(1))).rejects.toMatchObject({ status: 503, code: "shutting_down" });
  });
});

describe("wallet_ledger", () => {
  test("is append-only: UPDATE and DELETE are refused by the database", async () => {
    const engine = new WalletEngine({ batchMax: 1, groupMax: 1, concurrency: 1, mailboxMax: 10, timeoutMs: 0 });
    const userId = uniqueUser("immutable");
    await ensureUser(userId);
    const { txId } = await engine.submit(userId, earn(3));
    // drizzle wraps the database error; its cause carries the trigger's message
    const refusal = (query: Promise<unknown>) =>
      query.then(
        () => "allowed",
        (error) => String(error.cause?.message ?? error.message),
      );
    expect(
      await refusal(db.update(walletLedger).set({ amount: 1000 }).where(eq(walletLedger.id, txId)).execute()),
    ).toContain("append-only");
    expect(await refusal(db.delete(walletLedger).where(eq(walletLedger.id, txId)).execute())).toContain("append-only");
    const [row] = await db.select().from(walletLedger).where(eq(walletLedger.id, txId));
    expect(row.amount).toBe(3);
  });

  test("the balance can never go below zero, even by direct SQL", async () => {
    const userId = uniqueUser("check");
    await ensureUser(userId);
    await expect(db.update(users).set({ balance: -1 }).where(eq(users.userId, userId)).execute()).rejects.toThrow();
  });
});

describe("limits", () => {
  test("RATE_LIMIT_PER_USER: past the per-second budget a user gets 429 with Retry-After; others are unaffected", async () => {
    const engine = new WalletEngine({
      batchMax: 256,
      groupMax: 64,
      concurrency: 1,
      mailboxMax: 1000,
      timeoutMs: 0,
      ratePerUser: 5,
    });
    const userId = uniqueUser("limited");
    const other = uniqueUser("unlimited");
    await ensureUser(userId);
    await ensureUser(other);
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => engine.submit(userId, earn(1))));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(5);
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(refused.map((r) => [r.reason.status, r.reason.code, r.reason.headers["Retry-After"]])).toEqual(
      Array(3).fill([429, "rate_limited", "1"]),
    );
    expect((await engine.submit(other, earn(1))).balance).toBe(1);
  });

  test("RateLimiter refills over time and sweeps idle buckets", () => {
    const limiter = new RateLimiter(2);
    expect([limiter.take("a", 0), limiter.take("a", 0), limiter.take("a", 0)]).toEqual([0, 0, 1]);
    expect(limiter.take("a", 500)).toBe(0); // half a second refills one token
    limiter.sweep(10_000);
    expect(limiter.size).toBe(0);
  });

  test("requests still queued when their timeout passes get a 503 and are never applied", async () => {
    const engine = new WalletEngine({ batchMax: 1, groupMax: 1, concurrency: 1, mailboxMax: 1000, timeoutMs: 100 });
    const userId = uniqueUser("slow");
    await ensureUser(userId);
    // a transaction holds the user's row for 400 ms: a slow database, as the engine sees it
    let locked!: () => void;
    const lockTaken = new Promise<void>((resolve) => (locked = resolve));
    const blocker = db.transaction(async (tx) => {
      await tx.select().from(users).where(eq(users.userId, userId)).for("update");
      locked();
      await Bun.sleep(400);
    });
    await lockTaken;
    const results = await Promise.allSettled(Array.from({ length: 30 }, () => engine.submit(userId, earn(2))));
    await blocker;
    await engine.shutdown();
    const reasons = results.map((r) => (r.status === "rejected" ? `${r.reason.status} ${r.reason.code}` : "ok"));
    // only the first request can have reached the database (outcome unknown, it commits once the lock is released);
    // on a slow machine its SKIP LOCKED attempt comes back "busy" after its deadline, and it is a plain timeout too
    const unknown = reasons.filter((r) => r === "503 outcome_unknown").length;
    expect(unknown).toBeLessThanOrEqual(1);
    expect(reasons.filter((r) => r === "503 timeout")).toHaveLength(30 - unknown);
    const [row] = await db.select({ balance: users.balance }).from(users).where(eq(users.userId, userId));
    expect(row.balance).toBeLessThanOrEqual(2 * unknown); // the 29 queued ones were dropped, never applied
  });
});

describe("overload: an answered error is never applied", () => {
  test("400 users x 10 keyed earns, one slow statement at a time, 100 ms timeout: ledger rows == 200s (+ only outcome_unknown ones)", async () => {
    // every statement's answer comes back 80 ms late: the database is the bottleneck, requests time out
    // in mailboxes, in drains waiting for the slot, and inside the statement that is running
    const apply: typeof applyBatches = async (batches, wait) => {
      const outcomes = await applyBatches(batches, wait);
      await Bun.sleep(80);
      return outcomes;
    };
    const engine = new WalletEngine({
      batchMax: 4,
      groupMax: 50,
      concurrency: 1,
      mailboxMax: 1000,
      timeoutMs: 100,
      apply,
    });
    const userIds = Array.from({ length: 400 }, () => uniqueUser("overload"));
    await db.insert(users).values(userIds.map((userId) => ({ userId })));
    const sent = userIds.flatMap((userId) => Array.from({ length: 10 }, (_, i) => ({ userId, key: `k${i}` })));
    const results = await Promise.allSettled(
      sent.map(({ userId, key }) => engine.submit(userId, { amount: 1, reason: null, idempotencyKey: key })),
    );
    await engine.shutdown();
    await Bun.sleep(200); // statements whose requests were answered outcome_unknown finish
    const rows = await db
      .select({ userId: walletLedger.userId, key: walletLedger.idempotencyKey })
      .from(walletLedger)
      .where(sql`${walletLedger.userId} in ${userIds}`);
    const applied = new Set(rows.map((r) => `${r.userId}/${r.key}`));
    const byAnswer = new Map<string, string[]>();
    results.forEach((r, i) => {
      const answer = r.status === "fulfilled" ? "200" : `${r.reason.status} ${r.reason.code}`;
      byAnswer.set(answer, [...(byAnswer.get(answer) ?? []), `${sent[i].userId}/${sent[i].key}`]);
    });
    const ok = byAnswer.get("200") ?? [];
    const unknown = byAnswer.get("503 outcome_unknown") ?? [];
    const refused = [...byAnswer]
      .filter(([answer]) => answer !== "200" && answer !== "503 outcome_unknown")
      .flatMap(([, keys]) => keys);
    expect(byAnswer.get("503 timeout")?.length ?? 0).toBeGreaterThan(100); // the overload happened
    expect(ok.every((k) => applied.has(k))).toBe(true);
    expect(refused.filter((k) => applied.has(k))).toEqual([]);
    expect(applied.size).toBe(rows.length); // each key once
    expect(rows.length).toBeGreaterThanOrEqual(ok.length);
    expect(rows.length).toBeLessThanOrEqual(ok.length + unknown.length);
  });
});

describe("one drain per user in flight", () => {
  test("a drain emptied by timeouts before its group is sent does not let its actor drain twice (no user twice in a group)", async () => {
    // statement 1 takes 2.2 s, statement 2 0.6 s, the rest run at database speed; requests time out after 1.5 s
    let calls = 0;
    const apply: typeof applyBatches = async (batches, wait) => {
      const delay = [2200, 600][calls++] ?? 0;
      await Bun.sleep(delay);
      return applyBatches(batches, wait);
    };
    const engine = new WalletEngine({
      batchMax: 10,
      groupMax: 64,
      concurrency: 1,
      mailboxMax: 100,
      timeoutMs: 1500,
      apply,
    });
    const [x, a, b] = [uniqueUser("x"), uniqueUser("a"), uniqueUser("b")];
    for (const userId of [x, a, b]) await ensureUser(userId);
    const settle = (p: Promise<unknown>) =>
      p.then(
        () => "ok",
        (error) => error.code,
      );
    const t0 = performance.now();
    const at = (ms: number) => Bun.sleep(Math.max(0, t0 + ms - performance.now()));
    const first = settle(engine.submit(x, earn(1))); // statement 1 holds the only slot until 2.2 s
    await at(100);
    const a1 = settle(engine.submit(a, earn(1))); // waits in the ready queue, times out there at 1.6 s
    await at(1000);
    const b1 = settle(engine.submit(b, earn(1))); // alive when statement 2 (a's emptied drain + b's) is sent at 2.2 s
    await at(1800);
    const a2 = settle(engine.submit(a, earn(10))); // a's next drain, made when the emptied one is released at 2.2 s
    await at(2450);
    const a3 = settle(engine.submit(a, earn(100))); // in a's mailbox when statement 2 settles at ~2.8 s
    const answers = await Promise.all([first, a1, b1, a2, a3]);
    await engine.shutdown();
    expect(answers[1]).toBe("timeout");
    const [row] = await db.select({ balance: users.balance }).from(users).where(eq(users.userId, a));
    const [ledger] = await db
      .select({ sum: sql<string>`coalesce(sum(${walletLedger.amount}), 0)` })
      .from(walletLedger)
      .where(eq(walletLedger.userId, a));
    expect(Number(ledger.sum)).toBe(row.balance);
    // a2 and a3 are applied: never an error from a user put twice into one statement
    expect(answers.slice(3)).toEqual(["ok", "ok"]);
    expect(row.balance).toBe(110);
  });
});

describe("commit watchdog", () => {
  test("a transaction that never settles (a driver losing a query) frees its slot after the timeout plus 1 s; later requests commit", async () => {
    let calls = 0;
    // the first transaction is lost by the "driver": its promise never settles
    const apply: typeof applyBatches = (batches, wait) =>
      ++calls === 1 ? new Promise(() => {}) : applyBatches(batches, wait);
    const engine = new WalletEngine({
      batchMax: 10,
      groupMax: 64,
      concurrency: 1,
      mailboxMax: 100,
      timeoutMs: 300,
      apply,
    });
    const lost = uniqueUser("lost");
    const later = uniqueUser("later");
    await ensureUser(lost);
    await ensureUser(later);
    const first = engine.submit(lost, earn(5)).catch((error) => error);
    expect(await first).toMatchObject({ status: 503, code: "outcome_unknown" });
    // the only slot stays held by the lost transaction until 300 + 1000 ms after it started; then it is released
    expect(engine.depth().inFlight).toBe(1);
    await Bun.sleep(1100);
    expect(engine.depth().inFlight).toBe(0);
    expect(await engine.submit(later, earn(7))).toMatchObject({ balance: 7, replayed: false });
    expect(await engine.submit(lost, earn(1))).toMatchObject({ balance: 1, replayed: false });
  });
});

describe.skipIf(driver !== "postgres")("row locked by another transaction (PostgreSQL)", () => {
  test("a contended user waits in its own transaction; the rest of the group commits at once", async () => {
    const engine = new WalletEngine({ batchMax: 256, groupMax: 64, concurrency: 2, mailboxMax: 100, timeoutMs: 0 });
    const contended = uniqueUser("held");
    const free = Array.from({ length: 5 }, () => uniqueUser("free"));
    for (const userId of [contended, ...free]) await ensureUser(userId);
    let locked!: () => void;
    const lockTaken = new Promise<void>((resolve) => (locked = resolve));
    let releasedAt = 0;
    const blocker = db.transaction(async (tx) => {
      await tx.select().from(users).where(eq(users.userId, contended)).for("update");
      locked();
      await Bun.sleep(500);
      releasedAt = performance.now();
    });
    await lockTaken;
    const held = engine.submit(contended, earn(4)).then((r) => ({ ...r, at: performance.now() }));
    const others = await Promise.all(
      free.map((userId) => engine.submit(userId, earn(3)).then((r) => ({ ...r, at: performance.now() }))),
    );
    await blocker;
    const heldResult = await held;
    expect(others.every((r) => r.balance === 3 && r.at < releasedAt)).toBe(true);
    expect(heldResult.balance).toBe(4);
    expect(heldResult.at).toBeGreaterThanOrEqual(releasedAt);
  });
});
