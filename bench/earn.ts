/**
 * `bun run bench:earn` — the earn benchmark of SPEC §5 / issue 5, against the machine's PostgreSQL.
 *
 * For every scenario and config (batched = default env, naive = EARN_BATCH_MAX=1) it creates a
 * fresh database, starts a fresh server on it, inserts the users with one SQL statement, mints
 * their JWTs with the secret it gave the server, runs wrk (bench/load.lua, a separate process)
 * for a fixed time, stops the load cleanly, checks
 *   sum(users.balance) == sum(wallet_ledger.amount) == AMOUNT * (2xx earns)
 * and prints one table. Exit 1 on any INVARIANT VIOLATED, 2 on bad usage.
 *
 *   bun run bench:earn [-- --duration 10 --users 100000 --connections 1000 --scenarios s,a,b,o,c,d,e,mem
 *                          --mem-users 1000000 --wrk-threads 2 --quiet-wait 60 --profile DIR
 *                          --ref HEAD --quick --driver postgres|pglite]
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import {
  adminSql,
  benchSql,
  CLOCK_TICKS_PER_S,
  databaseUrl,
  type LoadResult,
  machineTicks,
  metricValue,
  PG_ADMIN_URL,
  postgresTicks,
  processMemory,
  processTicks,
  REPO_ROOT,
  requireWrk,
  runBenchMain,
  runWrk,
  type Server,
  scrapeMetrics,
  sleep,
  sourceSnapshot,
  startServer,
  stopServer,
  writeTokens,
} from "./lib";
import { summariseProfile } from "./profile";
import { formatReport, type RunRow } from "./report";

const AMOUNT = 3; // every earn credits this much, so the acknowledged sum is AMOUNT * (2xx earns)

interface Options {
  durationS: number;
  users: number;
  connections: number;
  scenarios: string[];
  memUsers: number;
  wrkThreads: number;
  /** seconds to wait, before each run, for the machine to be quiet (other people's load) */
  quietWaitS: number;
  /** folder for a CPU profile of every server (bun --cpu-prof), summarised after the table */
  profileDir?: string;
  /** git ref to benchmark (exported to a temporary folder), or undefined for the working tree */
  ref?: string;
  /** short runs: every scenario capped at --connections */
  quick?: boolean;
  /** the server's database: the machine's PostgreSQL, or the embedded default (PGlite on disk) */
  driver: "postgres" | "pglite";
}

/** Parses argv into Options; exits 2 on an unknown flag. */
export function parseArgs(argv: string[]): Options {
  const o: Options = {
    durationS: 10,
    users: 100_000,
    connections: 1000,
    scenarios: ["s", "a", "b", "d"],
    memUsers: 1_000_000,
    wrkThreads: 2,
    quietWaitS: 60,
    driver: "postgres",
  };
  const given = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) usage(`${flag} needs a value`);
      given.add(flag);
      return v;
    };
    const int = () => {
      const v = Number(value());
      if (!Number.isInteger(v) || v < 1) usage(`${flag} must be a positive integer`);
      return v;
    };
    if (flag === "--duration") o.durationS = int();
    else if (flag === "--users") o.users = int();
    else if (flag === "--connections") o.connections = int();
    else if (flag === "--mem-users") o.memUsers = int();
    else if (flag === "--wrk-threads") o.wrkThreads = int();
    else if (flag === "--quiet-wait") o.quietWaitS = Number(value());
    else if (flag === "--profile") o.profileDir = resolve(value());
    else if (flag === "--ref") o.ref = value();
    else if (flag === "--scenarios")
      o.scenarios = value()
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
    else if (flag === "--quick") given.add("--quick");
    else if (flag === "--driver") {
      const v = value();
      if (v !== "postgres" && v !== "pglite") usage("--driver must be postgres or pglite");
      o.driver = v;
    } else if (flag === "--help" || flag === "-h") usage();
    else usage(`unknown flag ${flag}`);
  }
  if (given.has("--quick")) {
    o.quick = true;
    if (!given.has("--duration")) o.durationS = 2;
    if (!given.has("--users")) o.users = 1000;
    if (!given.has("--connections")) o.connections = 100;
    if (!given.has("--mem-users")) o.memUsers = 20_000;
    if (!given.has("--quiet-wait")) o.quietWaitS = 5;
  }
  for (const s of o.scenarios) if (!(s in SCENARIOS) && s !== "mem") usage(`unknown scenario ${s}`);
  return o;
}

function usage(error?: string): never {
  if (error) console.error(`bench: ${error}`);
  console.error(
    "usage: bun run bench:earn [-- --duration S --users N --connections N --scenarios s,a,b,o,c,d[,e][,mem] --mem-users N --wrk-threads N --quiet-wait S --profile DIR --ref GIT_REF --quick --driver postgres|pglite]",
  );
  process.exit(error ? 2 : 0);
}

interface Scenario {
  title: string;
  /** extra server environment of this scenario */
  env?: Record<string, string>;
  mode: "earn" | "mix" | "health" | "notfound";
  users: (o: Options) => number;
  connections: (o: Options) => number;
}
const SCENARIOS: Record<string, Scenario> = {
  s: {
    title: "2,000 users over 256 connections, POST /earn (SPEC §5)",
    mode: "earn",
    users: () => 2000,
    connections: () => 256,
  },
  a: { title: "random user of N, POST /earn", mode: "earn", users: (o) => o.users, connections: (o) => o.connections },
  b: { title: "ONE hot user over 256 connections, POST /earn", mode: "earn", users: () => 1, connections: () => 256 },
  o: {
    title: "overload: 400 users over 1,000 connections, REQUEST_TIMEOUT_MS=100, DB_POOL_MAX=1 (errors never applied)",
    mode: "earn",
    users: () => 400,
    connections: () => 1000,
    env: { REQUEST_TIMEOUT_MS: "100", DB_POOL_MAX: "1" },
  },
  c: {
    title: "90% GET /balance + 10% POST /earn, random users",
    mode: "mix",
    users: (o) => o.users,
    connections: (o) => o.connections,
  },
  d: { title: "GET /health", mode: "health", users: () => 0, connections: (o) => o.connections },
  e: {
    title: "GET of an unknown path: 404, no database (opt-in)",
    mode: "notfound",
    users: () => 0,
    connections: (o) => o.connections,
  },
};
const CONFIGS: Record<string, Record<string, string>> = { batched: {}, naive: { EARN_BATCH_MAX: "1" } };

const stamp = new Date().toISOString().replace(/\D/g, "").slice(0, 14);
let workDir = ""; // temporary folder for tokens, server logs and snapshots, made by main()
const jwtSecret = randomBytes(32).toString("hex");
const live = {
  server: undefined as Server | undefined,
  db: undefined as string | undefined,
  root: "",
  driver: "postgres" as Options["driver"],
};

/** Fresh database + server + users + tokens for one run; the caller calls teardown(). */
async function setup(name: string, env: Record<string, string>, users: number, profileDir?: string) {
  const db = `bench_${stamp}_${name}`.toLowerCase().replace(/[^a-z0-9_]/g, "_");
  const pglite = live.driver === "pglite";
  if (pglite) rmSync(join(workDir, db), { recursive: true, force: true });
  else {
    await adminSql(`drop database if exists "${db}" with (force)`);
    await adminSql(`create database "${db}"`);
  }
  live.db = db;
  const profile = profileDir ? ["--cpu-prof", "--cpu-prof-dir", profileDir, `--cpu-prof-name=${db}.cpuprofile`] : [];
  // PGlite: DATABASE_URL empty = the embedded default, on disk under DATA_DIR/pglite
  // PGlite users are made over POST /login, which is limited per client address: not for the bench
  const database: Record<string, string> = pglite
    ? { DATABASE_URL: "", DATA_DIR: join(workDir, db), RATE_LIMIT_LOGIN_PER_IP: "0" }
    : { DATABASE_URL: databaseUrl(db) };
  const server = await startServer(
    live.root,
    { ...env, ...database, JWT_SECRET: jwtSecret },
    join(workDir, `${db}.log`),
    profile,
  );
  live.server = server;
  const tokensFile = join(workDir, `tokens-${users}.txt`);
  if (users > 0) {
    if (pglite) await createUsersOverHttp(server.url, users);
    else {
      const sql = benchSql(db);
      await sql`insert into users (user_id) select 'u' || g from generate_series(1, ${users}::int) g`;
      await sql.end();
    }
    if (!(await Bun.file(tokensFile).exists())) await writeTokens(tokensFile, jwtSecret, 1, users);
    const first = await Bun.file(tokensFile)
      .text()
      .then((t) => t.slice(0, t.indexOf("\n")));
    const res = await fetch(`${server.url}/balance`, { headers: { authorization: `Bearer ${first}` } });
    const body = (await res.json()) as { userId?: string; balance?: number };
    if (res.status !== 200 || body.userId !== "u1" || body.balance !== 0)
      throw new Error(`minted token rejected: ${res.status} ${JSON.stringify(body)}`);
  }
  return { db, server, tokensFile };
}

/** POST /login for u1..uN, 64 at a time (PGlite: only the server may open its files). */
async function createUsersOverHttp(url: string, users: number): Promise<void> {
  for (let from = 1; from <= users; from += 64) {
    const ids = Array.from({ length: Math.min(64, users - from + 1) }, (_, i) => `u${from + i}`);
    await Promise.all(
      ids.map(async (userId) => {
        const res = await fetch(`${url}/login`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ userId }),
        });
        if (res.status !== 200) throw new Error(`login ${userId}: ${res.status} ${await res.text()}`);
      }),
    );
  }
}

async function teardown(): Promise<void> {
  if (live.server) await stopServer(live.server);
  live.server = undefined;
  if (live.db && live.driver === "pglite") rmSync(join(workDir, live.db), { recursive: true, force: true });
  else if (live.db) await adminSql(`drop database if exists "${live.db}" with (force)`);
  live.db = undefined;
}

const SUMS = `select (select coalesce(sum(balance), 0) from users)::text as balances,
  (select coalesce(sum(amount), 0) from wallet_ledger)::text as ledger, (select count(*) from wallet_ledger)::text as rows`;

/** The three sums, read after the server stopped (PGlite: from its files). */
async function readSums(db: string): Promise<{ balances: string; ledger: string; rows: string }> {
  if (live.driver === "pglite") {
    const pg = new PGlite(join(workDir, db, "pglite"));
    try {
      return (await pg.query<{ balances: string; ledger: string; rows: string }>(SUMS)).rows[0];
    } finally {
      await pg.close();
    }
  }
  const sql = benchSql(db);
  try {
    const [row] = await sql.unsafe(SUMS);
    return row as unknown as { balances: string; ledger: string; rows: string };
  } finally {
    await sql.end();
  }
}

/** sum(users.balance), sum(wallet_ledger.amount), ledger rows vs the acknowledged earns. */
async function checkInvariant(db: string, load: LoadResult) {
  const row = await readSums(db);
  const balances = BigInt(row.balances),
    ledger = BigInt(row.ledger),
    rows = BigInt(row.rows);
  const acked = BigInt(AMOUNT) * BigInt(load.earn_ok);
  const unanswered = load.sent - load.received;
  // an error answer is never applied, except 503 outcome_unknown (its statement was already sent): those may be
  const unknownApplied = rows - BigInt(load.earn_ok);
  const ok =
    balances === ledger &&
    ledger === BigInt(AMOUNT) * rows &&
    unknownApplied >= 0n &&
    unknownApplied <= BigInt(load.unknown ?? 0) &&
    unanswered === 0 &&
    load.bad_2xx === 0;
  const text =
    `balances=${balances} ledger=${ledger} acked=${acked} (${load.earn_ok} x ${AMOUNT}) ledger_rows=${rows}` +
    (load.unknown ? ` outcome_unknown=${load.unknown} (of which applied: ${unknownApplied})` : "") +
    (unanswered ? ` unanswered=${unanswered}` : "") +
    (load.bad_2xx ? ` bad_2xx=${load.bad_2xx}` : "");
  return { ok, text };
}

/** CPU of server, our PostgreSQL and the rest of the machine between two snapshots, in % of one core. */
function cpuSnapshot(serverPid: number, db: string) {
  return { at: performance.now(), server: processTicks(serverPid), pg: postgresTicks(db), machine: machineTicks() };
}
function cpuShares(a: ReturnType<typeof cpuSnapshot>, b: ReturnType<typeof cpuSnapshot>, wrkCpuS: number) {
  const seconds = (b.at - a.at) / 1000;
  const pct = (ticks: number) => (100 * ticks) / CLOCK_TICKS_PER_S / seconds;
  const server = pct(b.server - a.server),
    pg = pct(b.pg - a.pg),
    wrk = (100 * wrkCpuS) / seconds;
  const busy = pct(b.machine.busy - a.machine.busy);
  return { server, pg, wrk, other: Math.max(0, busy - server - pg - wrk), idle: Math.max(0, 200 - busy) };
}

/**
 * Waits up to `maxS` seconds for a second in which the machine is less than 25 % busy (of 200 %),
 * so that other people's builds and tests on this shared machine disturb a run less; returns the
 * busy % of the last second sampled.
 */
async function waitQuiet(maxS: number): Promise<number> {
  const deadline = Date.now() + maxS * 1000;
  for (;;) {
    const a = machineTicks();
    await sleep(1000);
    const b = machineTicks();
    const busy = (200 * (b.busy - a.busy)) / (b.total - a.total);
    if (busy < 25 || Date.now() >= deadline) return busy;
  }
}

/** One scenario x config: setup, load, metrics deltas, invariant, teardown. */
async function runOne(key: string, config: string, o: Options): Promise<RunRow> {
  const scenario = SCENARIOS[key];
  const { db, server, tokensFile } = await setup(
    `${key}_${config}`,
    { ...CONFIGS[config], ...scenario.env },
    scenario.users(o),
    o.profileDir,
  );
  try {
    await waitQuiet(o.quietWaitS);
    const before = await scrapeMetrics(server.url);
    const cpu0 = cpuSnapshot(server.proc.pid, db);
    const loadFrom = performance.now() - server.spawnedAt;
    const load = await runWrk({
      url: server.url,
      mode: scenario.mode,
      tokensFile,
      durationS: o.durationS,
      amount: AMOUNT,
      connections: o.quick ? Math.min(o.connections, scenario.connections(o)) : scenario.connections(o),
      threads: o.wrkThreads,
      maxS: o.durationS + 60,
    });
    const cpu = cpuShares(cpu0, cpuSnapshot(server.proc.pid, db), load.wrkCpuS);
    const loadTo = performance.now() - server.spawnedAt;
    const after = await scrapeMetrics(server.url);
    const delta = (name: string) => metricValue(after, name) - metricValue(before, name);
    await stopServer(server); // drains and commits everything before the invariant check
    const invariant = await checkInvariant(db, load);
    const profile = o.profileDir
      ? summariseProfile(join(o.profileDir, `${db}.cpuprofile`), { fromMs: loadFrom, toMs: loadTo })
      : undefined;
    return {
      profile,
      scenario: key,
      title: scenario.title,
      config,
      load,
      cpu,
      invariant,
      batchAvg: delta("wallet_batch_size_sum") / (delta("wallet_batch_size_count") || NaN),
      groupAvg: delta("wallet_commit_group_users_sum") / (delta("wallet_commit_group_users_count") || NaN),
      commits: delta("wallet_commits_total"),
      inFlightLimit: metricValue(after, "wallet_inflight_limit"),
    };
  } finally {
    await teardown();
  }
}

/** One earn for each of memUsers distinct users; RSS before, at peak and after. */
async function runMemory(o: Options) {
  const { db, server, tokensFile } = await setup("mem", {}, o.memUsers, o.profileDir);
  try {
    await waitQuiet(o.quietWaitS);
    const pid = server.proc.pid;
    const rssBefore = processMemory(pid).rssMiB;
    const t0 = performance.now();
    const samples: [number, number][] = []; // [seconds, RSS MiB] every 250 ms
    const sampler = setInterval(() => samples.push([(performance.now() - t0) / 1000, processMemory(pid).rssMiB]), 250);
    const load = await runWrk({
      url: server.url,
      mode: "once",
      tokensFile,
      durationS: 0,
      amount: AMOUNT,
      connections: o.connections,
      threads: o.wrkThreads,
      maxS: 3600,
    });
    clearInterval(sampler);
    const { rssMiB: rssAfter, peakMiB } = processMemory(pid);
    const metrics = await scrapeMetrics(server.url);
    await sleep(5000);
    const rssIdle = processMemory(pid).rssMiB;
    await stopServer(server);
    const invariant = await checkInvariant(db, load);
    const series = Array.from(
      { length: 10 },
      (_, i) => samples[Math.floor(((i + 1) * samples.length) / 10) - 1],
    ).filter(Boolean);
    return {
      users: o.memUsers,
      load,
      rssBefore,
      peak: Math.max(peakMiB, ...samples.map((x) => x[1])),
      rssAfter,
      rssIdle,
      series,
      liveActors: metricValue(metrics, "wallet_live_actors"),
      invariant,
    };
  } finally {
    await teardown();
  }
}

async function main(): Promise<number> {
  requireWrk();
  const o = parseArgs(process.argv.slice(2));
  workDir = mkdtempSync(join(tmpdir(), "bench-earn-"));
  const source = sourceSnapshot(REPO_ROOT, o.ref, workDir);
  live.root = source.root;
  live.driver = o.driver;
  console.log(
    `bench:earn ${new Date().toISOString()} duration=${o.durationS}s users=${o.users} connections=${o.connections} ` +
      `wrk-threads=${o.wrkThreads} code=${source.commit} scenarios=${o.scenarios.join(",")} amount=${AMOUNT} driver=${o.driver} postgres=${PG_ADMIN_URL.replace(/\/[^/]*$/, "/")}`,
  );
  const rows: RunRow[] = [];
  for (const key of o.scenarios.filter((s) => s !== "mem")) {
    for (const config of Object.keys(CONFIGS)) {
      process.stdout.write(`  ${key} ${config.padEnd(7)} ... `);
      const row = await runOne(key, config, o);
      rows.push(row);
      const rate = key === "d" || key === "e" ? row.load.received : row.load.earn_ok;
      console.log(
        `${Math.round(rate / (row.load.elapsed_ms / 1000))}/s  invariant ${row.invariant.ok ? "ok" : "VIOLATED"}: ${row.invariant.text}`,
      );
      if (!row.invariant.ok) console.error(`INVARIANT VIOLATED in ${key}/${config}: ${row.invariant.text}`);
    }
  }
  let memOk = true;
  if (rows.length) console.log("\n" + formatReport(rows));
  for (const r of rows)
    if (r.profile) console.log(`\nserver CPU profile, ${r.scenario} ${r.config} (load window only):\n${r.profile}`);
  if (o.scenarios.includes("mem")) {
    console.log(`\nmemory: one earn for each of ${o.memUsers} users, ${o.connections} connections ...`);
    const m = await runMemory(o);
    memOk = m.invariant.ok;
    const s = m.load.elapsed_ms / 1000;
    console.log(
      `  ${m.load.earn_ok} earns 2xx in ${s.toFixed(1)} s (${Math.round(m.load.earn_ok / s)}/s), non-2xx ${m.load.non2xx}, p99 ${m.load.p99_ms.toFixed(1)} ms`,
    );
    console.log(
      `  server RSS: before ${m.rssBefore.toFixed(0)} MiB, peak ${m.peak.toFixed(0)} MiB, after ${m.rssAfter.toFixed(0)} MiB, ` +
        `after 5 s idle ${m.rssIdle.toFixed(0)} MiB; live actors after: ${m.liveActors}`,
    );
    console.log(
      `  RSS during the run (s: MiB): ${m.series.map(([t, r]) => `${t.toFixed(0)}: ${r.toFixed(0)}`).join(", ")}`,
    );
    console.log(`  invariant ${m.invariant.ok ? "ok" : "VIOLATED"}: ${m.invariant.text}`);
    if (!memOk) console.error(`INVARIANT VIOLATED in mem: ${m.invariant.text}`);
  }
  const failed = rows.filter((r) => !r.invariant.ok).length + (memOk ? 0 : 1);
  console.log(failed ? `\nINVARIANT VIOLATED in ${failed} run(s)` : "\ninvariant held after every run");
  return failed ? 1 : 0;
}

if (import.meta.main) {
  const cleanup = async () => {
    await teardown().catch(() => {});
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  };
  runBenchMain("bench", main, cleanup);
}
