import { describe, expect, test } from "bun:test";
import { eq, sql } from "drizzle-orm";
import { db } from "../src/db/client";
import { walletLedger } from "../src/db/schema";
import { call, login } from "./helpers";

const ledgerSum = async (userId: string) => {
  const [row] = await db
    .select({ total: sql<string>`coalesce(sum(${walletLedger.amount}), 0)` })
    .from(walletLedger)
    .where(eq(walletLedger.userId, userId));
  return Number(row.total);
};

describe("POST /earn", () => {
  test("credits and answers the running balance and a txId", async () => {
    const { token } = await login();
    const first = await call("POST", "/earn", { token, body: { amount: 500, reason: "daily login bonus" } });
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({ ok: true, amount: 500, balance: 500 });
    expect(Number.isInteger(first.json.txId)).toBe(true);
    const second = await call("POST", "/earn", { token, body: { amount: 1 } });
    expect(second.json).toMatchObject({ ok: true, amount: 1, balance: 501 });
    expect(second.json.txId).toBeGreaterThan(first.json.txId);
  });

  test("10 concurrent earns of 100 for a new user -> balance exactly 1000", async () => {
    const { userId, token } = await login();
    const responses = await Promise.all(
      Array.from({ length: 10 }, () => call("POST", "/earn", { token, body: { amount: 100 } })),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(responses.map((r) => r.json.balance).sort((a, b) => a - b)).toEqual([
      100, 200, 300, 400, 500, 600, 700, 800, 900, 1000,
    ]);
    expect((await call("GET", "/balance", { token })).json.balance).toBe(1000);
    expect(await ledgerSum(userId)).toBe(1000);
  });

  test.each([
    ["missing amount", {}, "amount"],
    ["amount 0", { amount: 0 }, "amount"],
    ["amount too big", { amount: 100_001 }, "amount"],
    ["negative amount", { amount: -5 }, "amount"],
    ["fractional amount", { amount: 1.5 }, "amount"],
    ["amount as a string", { amount: "10" }, "amount"],
    ["amount null", { amount: null }, "amount"],
    ["reason too long", { amount: 1, reason: "r".repeat(201) }, "reason"],
    ["reason wrong type", { amount: 1, reason: 5 }, "reason"],
  ])("%s -> 422 naming the field, nothing credited", async (_, body, field) => {
    const { userId, token } = await login();
    const response = await call("POST", "/earn", { token, body });
    expect(response.status).toBe(422);
    expect(response.json.error.code).toBe("validation_error");
    expect(response.json.error.details.field).toBe(field);
    expect(await ledgerSum(userId)).toBe(0);
  });

  test("boundaries 1 and 100000 and a 200-char reason are accepted", async () => {
    const { token } = await login();
    expect((await call("POST", "/earn", { token, body: { amount: 1 } })).status).toBe(200);
    expect(
      (await call("POST", "/earn", { token, body: { amount: 100_000, reason: "r".repeat(200) } })).json.balance,
    ).toBe(100_001);
  });

  test.each([
    ["malformed JSON", { raw: '{"amount": 1', headers: { "content-type": "application/json" } }, "body"],
    ["a JSON array", { raw: "[1]", headers: { "content-type": "application/json" } }, "body"],
    ["a JSON string", { raw: '"x"', headers: { "content-type": "application/json" } }, "body"],
    ["no body", { headers: { "content-type": "application/json" } }, "body"],
    ["text/plain", { raw: '{"amount": 1}', headers: { "content-type": "text/plain" } }, "content-type"],
  ])("%s -> 400 with the JSON error shape", async (_, options, field) => {
    const { token } = await login();
    const response = await call("POST", "/earn", { token, ...options });
    expect(response.status).toBe(400);
    expect(response.json.error.code).toBe("validation_error");
    expect(response.json.error.details.field).toBe(field);
  });

  test("needs a token", async () => {
    expect((await call("POST", "/earn", { body: { amount: 1 } })).status).toBe(401);
  });
});

describe("POST /spend", () => {
  test("debits, and a debit below zero is a 409 insufficient_funds with balance and amount", async () => {
    const { userId, token } = await login();
    await call("POST", "/earn", { token, body: { amount: 100 } });
    const spent = await call("POST", "/spend", { token, body: { amount: 30, reason: "sword" } });
    expect(spent.status).toBe(200);
    expect(spent.json).toMatchObject({ ok: true, amount: 30, balance: 70 });
    const refused = await call("POST", "/spend", { token, body: { amount: 71 } });
    expect(refused.status).toBe(409);
    expect(refused.json.error.code).toBe("insufficient_funds");
    expect(refused.json.error.details).toEqual({ balance: 70, amount: 71 });
    expect(await ledgerSum(userId)).toBe(70);
  });

  test("concurrent spends never take the balance below zero", async () => {
    const { userId, token } = await login();
    await call("POST", "/earn", { token, body: { amount: 500 } });
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => call("POST", "/spend", { token, body: { amount: 100 } })),
    );
    expect(responses.filter((r) => r.status === 200)).toHaveLength(5);
    expect(responses.filter((r) => r.status === 409)).toHaveLength(15);
    expect((await call("GET", "/balance", { token })).json.balance).toBe(0);
    expect(await ledgerSum(userId)).toBe(0);
  });

  test("validates like /earn", async () => {
    const { token } = await login();
    const response = await call("POST", "/spend", { token, body: { amount: "5" } });
    expect(response.status).toBe(422);
    expect(response.json.error.details.field).toBe("amount");
  });
});

describe("Idempotency-Key on /earn and /spend", () => {
  test("a replay returns the first response unchanged, marked, and credits nothing", async () => {
    const { userId, token } = await login();
    const headers = { "idempotency-key": "order-1" };
    const first = await call("POST", "/earn", { token, headers, body: { amount: 50, reason: "quest" } });
    await call("POST", "/earn", { token, body: { amount: 1 } });
    const replay = await call("POST", "/earn", { token, headers, body: { amount: 50, reason: "quest" } });
    expect(replay.status).toBe(200);
    expect(replay.json).toEqual(first.json);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    expect(await ledgerSum(userId)).toBe(51);
  });

  test("the same key with a different body -> 422", async () => {
    const { token } = await login();
    const headers = { "idempotency-key": "k" };
    await call("POST", "/earn", { token, headers, body: { amount: 50 } });
    for (const body of [{ amount: 51 }, { amount: 50, reason: "other" }]) {
      const response = await call("POST", "/earn", { token, headers, body });
      expect(response.status).toBe(422);
      expect(response.json.error.code).toBe("idempotency_key_reused");
    }
    expect((await call("POST", "/spend", { token, headers, body: { amount: 50 } })).status).toBe(422);
  });

  test("20 concurrent requests with one key -> exactly one credit", async () => {
    const { userId, token } = await login();
    const headers = { "idempotency-key": "burst" };
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => call("POST", "/earn", { token, headers, body: { amount: 7 } })),
    );
    for (const r of responses) expect([200, 409]).toContain(r.status);
    const ok = responses.filter((r) => r.status === 200);
    expect(new Set(ok.map((r) => r.json.txId)).size).toBe(1);
    expect(await ledgerSum(userId)).toBe(7);
  });

  test("keys are scoped per user", async () => {
    const a = await login();
    const b = await login();
    const headers = { "idempotency-key": "shared" };
    expect((await call("POST", "/earn", { token: a.token, headers, body: { amount: 5 } })).json.balance).toBe(5);
    const other = await call("POST", "/earn", { token: b.token, headers, body: { amount: 9 } });
    expect(other.status).toBe(200);
    expect(other.json.balance).toBe(9);
  });

  test("a key over 255 chars -> 422 naming the header", async () => {
    const { token } = await login();
    const response = await call("POST", "/earn", {
      token,
      headers: { "idempotency-key": "k".repeat(256) },
      body: { amount: 1 },
    });
    expect(response.status).toBe(422);
    expect(response.json.error.details.field).toBe("idempotency-key");
  });

  test("a refused spend can be retried with the same key once funds arrive", async () => {
    const { token } = await login();
    const headers = { "idempotency-key": "buy-1" };
    expect((await call("POST", "/spend", { token, headers, body: { amount: 10 } })).status).toBe(409);
    await call("POST", "/earn", { token, body: { amount: 10 } });
    expect((await call("POST", "/spend", { token, headers, body: { amount: 10 } })).json.balance).toBe(0);
  });
});

describe("GET /balance and GET /wallet/ledger", () => {
  test("the ledger is newest first, keyset-paginated, and sums to the balance", async () => {
    const { token } = await login();
    for (const amount of [10, 20, 30]) await call("POST", "/earn", { token, body: { amount, reason: `r${amount}` } });
    await call("POST", "/spend", { token, body: { amount: 5 }, headers: { "idempotency-key": "s1" } });
    const page1 = await call("GET", "/wallet/ledger?limit=3", { token });
    expect(page1.status).toBe(200);
    expect(page1.json.entries.map((e: { amount: number }) => e.amount)).toEqual([-5, 30, 20]);
    expect(page1.json.entries[0]).toMatchObject({ balanceAfter: 55, idempotencyKey: "s1", reason: null });
    expect(page1.json.nextCursor).not.toBeNull();
    const page2 = await call("GET", `/wallet/ledger?limit=3&cursor=${page1.json.nextCursor}`, { token });
    expect(page2.json.entries.map((e: { amount: number }) => e.amount)).toEqual([10]);
    expect(page2.json.nextCursor).toBeNull();
    const all = [...page1.json.entries, ...page2.json.entries];
    const balance = (await call("GET", "/balance", { token })).json.balance;
    expect(all.reduce((sum: number, e: { amount: number }) => sum + e.amount, 0)).toBe(balance);
  });

  test("limit out of range and a bad cursor -> 422", async () => {
    const { token } = await login();
    for (const query of ["limit=0", "limit=101", "limit=abc", "cursor=x1"]) {
      const response = await call("GET", `/wallet/ledger?${query}`, { token });
      expect(response.status).toBe(422);
    }
  });

  test("concurrent /balance reads of many users (batched into shared queries) each get their own balance", async () => {
    const players = await Promise.all(Array.from({ length: 30 }, () => login()));
    await Promise.all(players.map((p, i) => call("POST", "/earn", { token: p.token, body: { amount: i + 1 } })));
    const reads = await Promise.all(
      players.flatMap((p) => [p, p, p]).map((p) => call("GET", "/balance", { token: p.token })),
    );
    reads.forEach((r, i) => {
      expect(r.json).toEqual({ userId: players[Math.floor(i / 3)].userId, balance: Math.floor(i / 3) + 1 });
    });
  });

  test("a user only ever sees their own wallet", async () => {
    const a = await login();
    const b = await login();
    await call("POST", "/earn", { token: a.token, body: { amount: 42 } });
    expect((await call("GET", "/balance", { token: b.token })).json).toEqual({ userId: b.userId, balance: 0 });
    expect((await call("GET", "/wallet/ledger", { token: b.token })).json.entries).toEqual([]);
  });
});
