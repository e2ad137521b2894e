/**
 * The wallet across real server processes: two servers on one PostgreSQL, and SIGTERM mid-burst.
 * These start their own databases, so they run once (in the PGlite pass), not per driver.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { createTempDatabase, loginAll, pool, postgresAvailable, type ServerProcess, startServer } from "./helpers";

const inPglitePass = (process.env.DATABASE_URL ?? "memory://").startsWith("memory");
const pgUp = await postgresAvailable();
if (!pgUp)
  console.warn("wallet-processes: PostgreSQL at PG_ADMIN_URL is not reachable; the two-process test is skipped");

interface Outcome {
  userId: string;
  delta: number;
  status: number;
  txId?: number;
}

function send(
  url: string,
  token: string,
  userId: string,
  path: "/earn" | "/spend",
  amount: number,
): () => Promise<Outcome> {
  return async () => {
    try {
      const response = await fetch(`${url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ amount }),
      });
      const body = (await response.json().catch(() => ({}))) as { txId?: number };
      return { userId, delta: path === "/earn" ? amount : -amount, status: response.status, txId: body.txId };
    } catch {
      return { userId, delta: 0, status: 0 }; // connection refused or reset: not acknowledged
    }
  };
}

async function ledgerState(url: string) {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  const rows = await sql<{ user_id: string; balance: string; ledger: string }[]>`
    select u.user_id, u.balance, coalesce((select sum(amount) from wallet_ledger l where l.user_id = u.user_id), 0) as ledger from users u`;
  const txIds = new Set((await sql<{ id: string }[]>`select id from wallet_ledger`).map((r) => Number(r.id)));
  await sql.end();
  return {
    users: new Map(rows.map((r) => [r.user_id, { balance: Number(r.balance), ledger: Number(r.ledger) }])),
    txIds,
  };
}

const acknowledgedByUser = (outcomes: Outcome[]) => {
  const sums = new Map<string, number>();
  for (const o of outcomes) if (o.status === 200) sums.set(o.userId, (sums.get(o.userId) ?? 0) + o.delta);
  return sums;
};

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

describe.skipIf(!inPglitePass || !pgUp)("two server processes on one PostgreSQL", () => {
  test("5,000 concurrent earns and spends over 50 users: balance == sum(ledger) == acknowledged, no 5xx", async () => {
    const database = await createTempDatabase("two_proc");
    cleanups.push(database.drop);
    const servers: ServerProcess[] = [];
    for (let i = 0; i < 2; i++) servers.push(await startServer({ DATABASE_URL: database.url, DB_POOL_MAX: "10" }));
    cleanups.push(() => {
      for (const s of servers) s.process.kill();
    });

    const userIds = Array.from({ length: 50 }, (_, i) => `mp_user_${i}`);
    const tokens = await loginAll(servers[0].url, userIds);
    const tasks = Array.from({ length: 5000 }, (_, i) => {
      const userId = userIds[i % 50];
      const spend = i % 4 === 3; // every fourth request spends, some of them refused for funds
      return send(
        servers[i % 2].url,
        tokens.get(userId)!,
        userId,
        spend ? "/spend" : "/earn",
        spend ? 1 + (i % 150) : 1 + (i % 97),
      );
    });
    const outcomes = await pool(tasks, 500);

    expect(outcomes.filter((o) => o.status >= 500 || o.status === 0)).toEqual([]);
    expect(outcomes.filter((o) => o.status !== 200 && o.status !== 409)).toEqual([]);
    const acknowledged = acknowledgedByUser(outcomes);
    const state = await ledgerState(database.url);
    for (const userId of userIds) {
      const row = state.users.get(userId)!;
      expect({ userId, balance: row.balance }).toEqual({ userId, balance: row.ledger });
      expect({ userId, balance: row.balance }).toEqual({ userId, balance: acknowledged.get(userId) ?? 0 });
    }
    for (const o of outcomes) if (o.status === 200) expect(state.txIds.has(o.txId!)).toBe(true);
  }, 120_000);
});

describe.skipIf(!inPglitePass)("SIGTERM in the middle of a burst of earns", () => {
  const targets: { name: string; env: () => Promise<Record<string, string>> }[] = [
    {
      name: "PGlite on disk",
      env: async () => {
        const dir = mkdtempSync(join(tmpdir(), "sigterm-"));
        cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
        return { DATA_DIR: dir, DATABASE_URL: "" };
      },
    },
  ];
  if (pgUp) {
    targets.push({
      name: "PostgreSQL",
      env: async () => {
        const database = await createTempDatabase("sigterm");
        cleanups.push(database.drop);
        return { DATABASE_URL: database.url };
      },
    });
  }

  for (const target of targets) {
    test(`${target.name}: every request that got a 200 is in the ledger after restart`, async () => {
      const env = await target.env();
      const first = await startServer(env);
      const userIds = Array.from({ length: 20 }, (_, i) => `term_user_${i}`);
      const tokens = await loginAll(first.url, userIds);
      // the signal goes once a tenth of the burst is answered, not after a fixed sleep: on a fast
      // machine all 3,000 were answered within 300 ms and the test saw no shutdown at all
      let answered = 0;
      const tasks = Array.from({ length: 3000 }, (_, i) => async () => {
        const outcome = await send(first.url, tokens.get(userIds[i % 20])!, userIds[i % 20], "/earn", 1 + (i % 50))();
        if (++answered === 300) first.process.kill("SIGTERM");
        return outcome;
      });
      const outcomes = await pool(tasks, 200);
      expect(await first.process.exited).toBe(0);
      const acked = outcomes.filter((o) => o.status === 200);
      // the signal must land mid-burst: some requests answered, some refused or cut off
      console.log(`${target.name}: ${acked.length} of ${outcomes.length} earns acknowledged before shutdown`);
      expect(acked.length).toBeGreaterThan(0);
      expect(acked.length).toBeLessThan(outcomes.length);
      expect(outcomes.filter((o) => o.status !== 200 && o.status !== 503 && o.status !== 0)).toEqual([]);

      const second = await startServer(env);
      cleanups.push(() => second.process.kill());
      const acknowledged = acknowledgedByUser(outcomes);
      for (const userId of userIds) {
        const balance: any = await (
          await fetch(`${second.url}/balance`, { headers: { authorization: `Bearer ${tokens.get(userId)}` } })
        ).json();
        let ledger = 0;
        const seen = new Set<number>();
        for (let cursor: string | null = ""; cursor !== null; ) {
          const page: any = await (
            await fetch(`${second.url}/wallet/ledger?limit=100${cursor ? `&cursor=${cursor}` : ""}`, {
              headers: { authorization: `Bearer ${tokens.get(userId)}` },
            })
          ).json();
          for (const entry of page.entries) {
            ledger += entry.amount;
            seen.add(entry.txId);
          }
          cursor = page.nextCursor;
        }
        expect({ userId, ledger }).toEqual({ userId, ledger: balance.balance });
        expect({ userId, ledger }).toEqual({ userId, ledger: acknowledged.get(userId) ?? 0 });
        for (const o of acked) if (o.userId === userId) expect(seen.has(o.txId!)).toBe(true);
      }
    }, 120_000);
  }
});
