/**
 * `npm run cluster -- --instances 2` on a fresh PostgreSQL database: HAProxy in front of two
 * instances, requests through HAProxy and straight to each instance, one instance SIGKILLed
 * mid-burst. Like test/wallet-processes.test.ts these start their own databases and processes, so
 * they run once (in the PGlite pass); they are skipped, with a message, without haproxy or PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import postgres from "postgres";
import { findHaproxy } from "../scripts/cluster/haproxy";
import { freePortRange, haproxyServerStatus, type RunningCluster, spawnCluster } from "../scripts/cluster/spawn";
import { createTempDatabase, loginAll, pool, postgresAvailable } from "./helpers";

const inPglitePass = (process.env.DATABASE_URL ?? "memory://").startsWith("memory");
const pgUp = inPglitePass && (await postgresAvailable());
const haproxy = findHaproxy();
if (inPglitePass && !haproxy)
  console.warn("cluster: haproxy is not installed (apt-get install -y haproxy); the cluster tests are skipped");
if (inPglitePass && !pgUp)
  console.warn("cluster: PostgreSQL at PG_ADMIN_URL is not reachable; the cluster tests are skipped");
const runnable = inPglitePass && pgUp && !!haproxy;

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** A fresh database and `npm run cluster -- --instances 2` on it, on random ports. */
async function startCluster(prefix: string): Promise<{ cluster: RunningCluster; databaseUrl: string }> {
  const database = await createTempDatabase(prefix);
  cleanups.push(database.drop);
  const port = await freePortRange(2);
  const cluster = await spawnCluster({
    command: ["npm", "run", "--silent", "cluster", "--"],
    instances: 2,
    cwd: join(import.meta.dir, ".."),
    env: { PORT: String(port), DATABASE_URL: database.url, LOG_LEVEL: "warn", DB_POOL_MAX: "10" },
  });
  cleanups.push(() => cluster.stop(20_000));
  return { cluster, databaseUrl: database.url };
}

interface WalletOp {
  key: string;
  userId: string;
  path: "/earn" | "/spend";
  amount: number;
}

interface Answer {
  status: number;
  txId?: number;
  replayed: boolean;
  code?: string;
}

async function post(url: string, token: string, op: WalletOp): Promise<Answer> {
  try {
    const response = await fetch(`${url}${op.path}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}`, "idempotency-key": op.key },
      body: JSON.stringify({ amount: op.amount }),
    });
    const body = (await response.json().catch(() => ({}))) as { txId?: number; error?: { code: string } };
    return {
      status: response.status,
      txId: body.txId,
      replayed: response.headers.get("idempotent-replayed") === "true",
      code: body.error?.code,
    };
  } catch {
    return { status: 0, replayed: false }; // connection refused or reset: outcome unknown
  }
}

/** Sends `op` until it has a final answer, retrying the same key on 503 / connection errors (the client contract). */
async function postUntilFinal(url: string, token: string, op: WalletOp, retries: { count: number }): Promise<Answer> {
  for (let attempt = 1; ; attempt++) {
    const answer = await post(url, token, op);
    if ((answer.status !== 503 && answer.status !== 0) || attempt === 40) return answer;
    retries.count++;
    await Bun.sleep(250);
  }
}

/** Per user: balance, sum(ledger), and every (key -> txIds) of the ledger. */
async function ledgerState(databaseUrl: string) {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  const users = await sql<{ user_id: string; balance: string; ledger: string }[]>`
    select u.user_id, u.balance::text, coalesce((select sum(amount) from wallet_ledger l where l.user_id = u.user_id), 0)::text as ledger from users u`;
  const rows = await sql<
    { idempotency_key: string | null; id: string }[]
  >`select idempotency_key, id::text from wallet_ledger`;
  const [totals] = await sql<{ balances: string; ledger: string }[]>`
    select (select coalesce(sum(balance), 0) from users)::text as balances, (select coalesce(sum(amount), 0) from wallet_ledger)::text as ledger`;
  await sql.end();
  const keys = new Map<string, number[]>();
  for (const row of rows)
    if (row.idempotency_key) keys.set(row.idempotency_key, [...(keys.get(row.idempotency_key) ?? []), Number(row.id)]);
  return {
    users: new Map(users.map((u) => [u.user_id, { balance: Number(u.balance), ledger: Number(u.ledger) }])),
    keys,
    txIds: new Set(rows.map((r) => Number(r.id))),
    sumBalances: Number(totals.balances),
    sumLedger: Number(totals.ledger),
  };
}

/** The invariant: sum(balance) == sum(ledger) == acknowledged, per user and in total; every applied key once, with its txId. */
async function expectLedgerMatches(databaseUrl: string, ops: WalletOp[], applied: Map<string, number>) {
  const state = await ledgerState(databaseUrl);
  const acknowledged = new Map<string, number>();
  for (const op of ops)
    if (applied.has(op.key))
      acknowledged.set(op.userId, (acknowledged.get(op.userId) ?? 0) + (op.path === "/earn" ? op.amount : -op.amount));
  const total = [...acknowledged.values()].reduce((a, b) => a + b, 0);
  expect({ sumBalances: state.sumBalances, sumLedger: state.sumLedger }).toEqual({
    sumBalances: total,
    sumLedger: total,
  });
  for (const [userId, row] of state.users)
    expect({ userId, ...row }).toEqual({
      userId,
      balance: acknowledged.get(userId) ?? 0,
      ledger: acknowledged.get(userId) ?? 0,
    });
  for (const op of ops)
    expect({ key: op.key, txIds: state.keys.get(op.key) ?? [] }).toEqual({
      key: op.key,
      txIds: applied.has(op.key) ? [applied.get(op.key)!] : [],
    });
}

describe.skipIf(!runnable)("npm run cluster -- --instances 2", () => {
  let cluster: RunningCluster;
  let databaseUrl: string;
  beforeAll(async () => {
    ({ cluster, databaseUrl } = await startCluster("cluster"));
  }, 120_000);

  test("5,000 keyed earns and spends over 50 users via HAProxy and each instance, then every key retried via the other instance: each applied once", async () => {
    const [one, two] = cluster.instances.map((i) => i.url);
    const userIds = Array.from({ length: 50 }, (_, i) => `cluster_user_${i}`);
    const tokens = await loginAll(cluster.url, userIds);
    const ops: WalletOp[] = Array.from({ length: 5000 }, (_, i) => {
      const spend = i % 4 === 3; // every fourth request spends, some of them refused for funds
      return {
        key: `k-${i}`,
        userId: userIds[i % 50],
        path: spend ? "/spend" : "/earn",
        amount: spend ? 1 + (i % 150) : 1 + (i % 97),
      };
    });
    const targets = [cluster.url, one, two];
    const first = await pool(
      ops.map((op, i) => () => post(targets[i % 3], tokens.get(op.userId)!, op)),
      200,
    );
    expect(first.filter((a) => a.status !== 200 && a.status !== 409)).toEqual([]);
    expect(first.filter((a) => a.status === 409).every((a) => a.code === "insufficient_funds")).toBe(true);

    // the same keys through the other instance (what went through HAProxy goes straight to one)
    const others = [one, two, one];
    const again = await pool(
      ops.map((op, i) => () => post(others[i % 3], tokens.get(op.userId)!, op)),
      200,
    );
    const applied = new Map<string, number>();
    ops.forEach((op, i) => {
      const [a, b] = [first[i], again[i]];
      if (a.status === 200) {
        // a replay answers the first response: same txId, marked as replayed
        expect({ key: op.key, status: b.status, txId: b.txId, replayed: b.replayed }).toEqual({
          key: op.key,
          status: 200,
          txId: a.txId,
          replayed: true,
        });
        applied.set(op.key, a.txId!);
      } else {
        // a spend refused for funds wrote nothing: its retry may apply now that funds arrived, once
        expect([200, 409]).toContain(b.status);
        if (b.status === 200) {
          expect(b.replayed).toBe(false);
          applied.set(op.key, b.txId!);
        }
      }
    });
    await expectLedgerMatches(databaseUrl, ops, applied);
  }, 180_000);

  test("the SPEC §2 contract through HAProxy: X-Request-ID, error shapes, 413, /balance, /events, /stats", async () => {
    const url = cluster.url;
    const token = (await loginAll(url, ["cluster_contract"])).get("cluster_contract")!;
    const auth = { authorization: `Bearer ${token}` };
    const errorOf = async (response: Response) => {
      const body = (await response.json()) as {
        error: { code: string; message: string; requestId: string; details?: { field?: string } };
      };
      expect(body.error.requestId).toBe(response.headers.get("x-request-id")!);
      expect(typeof body.error.message).toBe("string");
      return { status: response.status, code: body.error.code, field: body.error.details?.field };
    };

    const kept = await fetch(`${url}/balance`, { headers: { ...auth, "x-request-id": "trace.cluster-1" } });
    expect(kept.headers.get("x-request-id")).toBe("trace.cluster-1");
    expect(await kept.json()).toEqual({ userId: "cluster_contract", balance: 0 });
    const replaced = await fetch(`${url}/nope`, { headers: { "x-request-id": "not valid!" } });
    expect(replaced.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(await errorOf(replaced)).toEqual({ status: 404, code: "not_found", field: undefined });

    expect(await errorOf(await fetch(`${url}/balance`))).toMatchObject({ status: 401, code: "unauthorized" });
    const json = { ...auth, "content-type": "application/json" };
    expect(await errorOf(await fetch(`${url}/earn`, { method: "POST", headers: json, body: "{nope" }))).toMatchObject({
      status: 400,
      field: "body",
    });
    expect(
      await errorOf(await fetch(`${url}/earn`, { method: "POST", headers: json, body: '{"amount":"10"}' })),
    ).toMatchObject({ status: 422, field: "amount" });
    const big = JSON.stringify({ amount: 1, reason: "x".repeat(70_000) });
    expect(await errorOf(await fetch(`${url}/earn`, { method: "POST", headers: json, body: big }))).toEqual({
      status: 413,
      code: "payload_too_large",
      field: undefined,
    });
    // no Content-Length (chunked): HAProxy streams it and the instance's own limit answers
    const chunked = new ReadableStream({
      start: (c) => {
        c.enqueue(new TextEncoder().encode(big));
        c.close();
      },
    });
    expect(await errorOf(await fetch(`${url}/earn`, { method: "POST", headers: json, body: chunked }))).toMatchObject({
      status: 413,
      code: "payload_too_large",
    });

    const earned = await fetch(`${url}/earn`, { method: "POST", headers: json, body: '{"amount":7}' });
    expect(await earned.json()).toMatchObject({ ok: true, amount: 7, balance: 7 });
    const event = await fetch(`${url}/event`, {
      method: "POST",
      headers: json,
      body: '{"eventType":"level_up","meta":"cluster"}',
    });
    expect(event.status).toBe(201);
    for (const base of [url, ...cluster.instances.map((i) => i.url)]) {
      // every instance reads the same database: the same answers whichever one is asked
      expect(await (await fetch(`${base}/balance`, { headers: auth })).json()).toEqual({
        userId: "cluster_contract",
        balance: 7,
      });
      const events = (await (await fetch(`${base}/events`, { headers: auth })).json()) as {
        events: { eventType: string; meta: string }[];
      };
      expect(events.events.map((e) => [e.eventType, e.meta])).toEqual([["level_up", "cluster"]]);
      const stats = (await (await fetch(`${base}/stats`, { headers: auth })).json()) as {
        scope: string;
        totalEvents: number;
      };
      expect(stats).toMatchObject({ scope: "user", totalEvents: 1 });
    }
    expect(await errorOf(await fetch(`${url}/stats`, { headers: { authorization: "Bearer nope" } }))).toMatchObject({
      status: 401,
    });
  }, 60_000);

  test("/health names the instance: round robin without Authorization, one instance per token", async () => {
    const instanceOf = async (headers: Record<string, string> = {}) =>
      ((await (await fetch(`${cluster.url}/health`, { headers })).json()) as { instance: string }).instance;
    const ids = cluster.instances.map((i) => i.id);
    const anonymous = new Set(await Promise.all(Array.from({ length: 10 }, () => instanceOf())));
    expect([...anonymous].sort()).toEqual([...ids].sort());
    for (let t = 0; t < 5; t++) {
      const seen = new Set<string>();
      for (let i = 0; i < 6; i++) seen.add(await instanceOf({ authorization: `Bearer token-${t}` }));
      expect(seen.size).toBe(1);
    }
  }, 30_000);

  test("SIGTERM stops HAProxy and both instances (each drains), exit 0", async () => {
    const pids = [cluster.haproxy.pid, ...cluster.instances.map((i) => i.pid)];
    expect(await cluster.stop()).toBe(0);
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow(); // gone
    expect(cluster.output()).toContain('"msg":"cluster stopped"');
    await expect(fetch(`${cluster.url}/health`)).rejects.toThrow();
  }, 90_000);
});

describe.skipIf(!runnable)("one instance SIGKILLed mid-burst", () => {
  test("HAProxy marks it down, retries with the same keys land once on the survivor, nothing acknowledged is lost", async () => {
    const { cluster, databaseUrl } = await startCluster("cluster_kill");
    const userIds = Array.from({ length: 20 }, (_, i) => `kill_user_${i}`);
    const tokens = await loginAll(cluster.url, userIds);
    const ops: WalletOp[] = Array.from({ length: 3000 }, (_, i) => ({
      key: `kill-${i}`,
      userId: userIds[i % 20],
      path: "/earn",
      amount: 1 + (i % 50),
    }));
    const retries = { count: 0 };
    let answered = 0;
    const burst = pool(
      ops.map((op) => async () => {
        const answer = await postUntilFinal(cluster.url, tokens.get(op.userId)!, op, retries);
        answered++;
        return answer;
      }),
      100,
    );
    while (answered < 300) await Bun.sleep(20);
    const victim = cluster.instances[0];
    process.kill(victim.pid, "SIGKILL");
    const answeredAtKill = answered;
    const answers = await burst;
    console.log(
      `cluster SIGKILL: ${answeredAtKill} of ${ops.length} answered at the kill; ${retries.count} retries with the same key after a 503 or a reset`,
    );

    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
    expect(retries.count).toBeGreaterThan(0); // the kill landed mid-burst
    // down after 2 failed checks 1 s apart: poll, the burst may have ended sooner
    let status = await haproxyServerStatus(cluster.haproxy.statsSocket);
    for (let waited = 0; !status.get("i1")?.startsWith("DOWN") && waited < 10_000; waited += 250) {
      await Bun.sleep(250);
      status = await haproxyServerStatus(cluster.haproxy.statsSocket);
    }
    expect(status.get("i1")).toMatch(/^DOWN/);
    expect(status.get("i2")).toMatch(/^UP/);
    const applied = new Map(ops.map((op, i) => [op.key, answers[i].txId!]));
    await expectLedgerMatches(databaseUrl, ops, applied);

    // the survivor drains and exits 0; the cluster reports the dead instance with exit 1
    expect(await cluster.stop()).toBe(1);
    expect(cluster.output()).toContain("instance exited unexpectedly");
    expect(cluster.output()).toMatch(
      new RegExp(
        `"instance stopped".*"instance":"${cluster.instances[1].id.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}","exit":0`,
      ),
    );
  }, 180_000);
});
