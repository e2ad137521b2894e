/**
 * Burst of AppsFlyer Push API records into POST /af/postback on PostgreSQL (durable commits), the
 * server a child process and this process the load generator (Bun fetch, keep-alive):
 *
 *   bun bench/af-postback.ts [--records 5000] [--concurrency 64]
 *
 * Prints one JSON line: stored records/s for the fresh burst, then for the same burst again (every
 * record a replay), latency percentiles, and the row count checked in the database (no loss, no duplicate).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { adminSql, benchSql, databaseUrl, REPO_ROOT, startServer, stopServer } from "./lib";

const { values } = parseArgs({
  options: { records: { type: "string", default: "5000" }, concurrency: { type: "string", default: "64" } },
});
const records = Number(values.records);
const concurrency = Number(values.concurrency);
const token = "bench-af-push-token-0123456789abcdef0123";
const db = `bench_af_${Date.now().toString(36)}`;

function record(i: number) {
  const second = String(i % 60).padStart(2, "0");
  return JSON.stringify({
    appsflyer_id: `bench-${i}`,
    event_name: "af_purchase",
    event_time: `2025-06-${String(1 + (i % 28)).padStart(2, "0")} 12:00:${second}.${String(i % 1000).padStart(3, "0")}`,
    event_revenue_usd: "4.99",
    campaign: `CAMPAIGN_${i % 6}`,
    media_source: "googleadwords_int",
    event_value: JSON.stringify({ af_revenue: "4.99", af_currency: "USD", af_receipt_id: `GPA.${i}` }),
    platform: "android",
    country_code: "DE",
    app_version: "1.2.3",
  });
}

/** Sends every body with `concurrency` in flight; returns wall seconds, per-request ms and non-200 statuses. */
async function burst(url: string, bodies: string[]) {
  const latencies: number[] = new Array(bodies.length);
  const failures: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < bodies.length) {
        const i = next++;
        const t0 = performance.now();
        const response = await fetch(`${url}/af/postback`, {
          method: "POST",
          headers: { authorization: token, "content-type": "application/json" },
          body: bodies[i],
        });
        await response.arrayBuffer();
        latencies[i] = performance.now() - t0;
        if (response.status !== 200) failures.push(response.status);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) =>
    Math.round(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] * 10) / 10;
  return {
    seconds: Math.round(seconds * 100) / 100,
    perSecond: Math.round(bodies.length / seconds),
    p50ms: pct(0.5),
    p99ms: pct(0.99),
    failures: failures.length,
  };
}

await adminSql(`create database "${db}"`);
const logPath = join(mkdtempSync(join(tmpdir(), "bench-af-")), "server.log");
const server = await startServer(REPO_ROOT, { DATABASE_URL: databaseUrl(db), AF_PUSH_TOKEN: token }, logPath);
try {
  const bodies = Array.from({ length: records }, (_, i) => record(i));
  const fresh = await burst(server.url, bodies);
  const replay = await burst(server.url, bodies);
  const sql = benchSql(db);
  const [{ rows, keys }] =
    await sql`select count(*)::int as rows, count(distinct purchase_key)::int as keys from af_postbacks`;
  await sql.end();
  console.log(
    JSON.stringify({ records, concurrency, fresh, replay, storedRows: rows, distinctKeys: keys, lost: records - rows }),
  );
} finally {
  await stopServer(server);
  await adminSql(`drop database if exists "${db}" with (force)`);
}
