/**
 * Helpers of the benchmarks (mostly bench/earn.ts): the source snapshot to measure, bench databases, the server as a child process, JWTs minted with the
 * bench's own secret, /metrics, CPU accounting from /proc, and the wrk load generator.
 */
import { createHmac } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, symlinkSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import postgres from "postgres";

export const REPO_ROOT = join(import.meta.dir, "..");
export const PG_ADMIN_URL = process.env.PG_ADMIN_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** URL of database `name` on the server of PG_ADMIN_URL. */
export function databaseUrl(name: string): string {
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Runs `statement` (CREATE/DROP DATABASE) on the admin database. */
export async function adminSql(statement: string): Promise<void> {
  const sql = postgres(PG_ADMIN_URL, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(statement);
  } finally {
    await sql.end();
  }
}

/** Opens a small pool on bench database `name`; the caller ends it. */
export function benchSql(name: string): postgres.Sql {
  return postgres(databaseUrl(name), { max: 2, onnotice: () => {} });
}

/** A TCP port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The folder to run a benchmark's subject from: `repo` itself, or with `ref` a snapshot of that
 * commit exported (git archive) into `workDir`, so that edits landing in the working tree during a
 * long run cannot change or break what is measured. Returns the folder and the commit it holds.
 */
export function sourceSnapshot(
  repo: string,
  ref: string | undefined,
  workDir: string,
): { root: string; commit: string } {
  const git = (args: string[]) => {
    const r = Bun.spawnSync(["git", "-C", repo, ...args]);
    if (r.exitCode !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr.toString()}`);
    return r.stdout.toString().trim();
  };
  if (!ref) {
    const dirty = git(["status", "--porcelain", "--", "src", "workers", "drizzle", "package.json"]) !== "";
    return {
      root: repo,
      commit: `${git(["rev-parse", "--short", "HEAD"])}${dirty ? " + uncommitted changes" : ""} (working tree)`,
    };
  }
  const commit = git(["rev-parse", "--short", `${ref}^{commit}`]);
  const root = join(workDir, `src-${commit}`);
  mkdirSync(root, { recursive: true });
  const r = Bun.spawnSync(["bash", "-c", 'git -C "$1" archive "$2" | tar -x -C "$3"', "_", repo, commit, root]);
  if (r.exitCode !== 0) throw new Error(`git archive ${commit}: ${r.stderr.toString()}`);
  symlinkSync(join(repo, "node_modules"), join(root, "node_modules"));
  return { root, commit };
}

export interface Server {
  proc: Bun.Subprocess;
  port: number;
  url: string;
  logPath: string;
  /** performance.now() just before the spawn (the start of a --cpu-prof profile) */
  spawnedAt: number;
}

/**
 * Starts `bun [bunArgs] src/index.ts` in folder `root` with `env` on a free port and waits for /health to answer 200.
 * bunArgs is e.g. ["--cpu-prof", "--cpu-prof-dir", dir] to profile the server.
 */
export async function startServer(
  root: string,
  env: Record<string, string>,
  logPath: string,
  bunArgs: string[] = [],
): Promise<Server> {
  const port = await freePort();
  const spawnedAt = performance.now();
  const proc = Bun.spawn([process.execPath, ...bunArgs, "src/index.ts"], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: "warn", ...env, PORT: String(port) },
    stdout: Bun.file(logPath),
    stderr: "inherit",
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) break;
    try {
      if ((await fetch(`${url}/health`)).status === 200) return { proc, port, url, logPath, spawnedAt };
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  proc.kill("SIGKILL");
  const log = await Bun.file(logPath)
    .text()
    .catch(() => "");
  throw new Error(`server did not become healthy (exit ${proc.exitCode}); log tail:\n${log.slice(-2000)}`);
}

/** SIGTERM (the server drains its mailboxes and commits), SIGKILL after 20 s. Returns the exit code. */
export async function stopServer(server: Server): Promise<number | null> {
  if (server.proc.exitCode !== null) return server.proc.exitCode;
  server.proc.kill("SIGTERM");
  const exited = await Promise.race([server.proc.exited.then(() => true), sleep(20_000).then(() => false)]);
  if (!exited) {
    server.proc.kill("SIGKILL");
    await server.proc.exited;
  }
  return server.proc.exitCode;
}

const b64url = (data: string | Buffer) => Buffer.from(data).toString("base64url");
const JWT_HEADER = b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));

/** An HS256 JWT {sub, iat, exp} signed with `secret`, as the server's /login would issue it. */
export function mintToken(secret: string, sub: string, iat: number, exp: number): string {
  const unsigned = `${JWT_HEADER}.${b64url(JSON.stringify({ sub, iat, exp }))}`;
  return `${unsigned}.${createHmac("sha256", secret).update(unsigned).digest("base64url")}`;
}

/** Writes one token per line for users u<from>..u<to> (valid for 6 hours) to `path`. */
export async function writeTokens(path: string, secret: string, from: number, to: number): Promise<void> {
  const iat = Math.floor(Date.now() / 1000);
  const writer = Bun.file(path).writer();
  for (let i = from; i <= to; i++) writer.write(mintToken(secret, `u${i}`, iat, iat + 6 * 3600) + "\n");
  await writer.end();
}

/** Sum of every sample of metric `name` (all label sets) in Prometheus text `text`; 0 when absent. */
export function metricValue(text: string, name: string): number {
  let total = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== " " && rest[0] !== "{") continue;
    total += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return total;
}

/** GET /metrics as text. */
export async function scrapeMetrics(url: string): Promise<string> {
  return (await fetch(`${url}/metrics`)).text();
}

/** utime + stime of process `pid` in clock ticks (all its threads); 0 once it is gone. */
export function processTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[11]) + Number(fields[12]); // fields 14 and 15 of proc(5)
  } catch {
    return 0;
  }
}

/** VmRSS and VmHWM (peak) of process `pid`, in MiB. */
export function processMemory(pid: number): { rssMiB: number; peakMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? 0);
  return { rssMiB: kib("VmRSS") / 1024, peakMiB: kib("VmHWM") / 1024 };
}

/** Busy and total clock ticks of the whole machine (/proc/stat). */
export function machineTicks(): { busy: number; total: number } {
  const cpu = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  const total = cpu.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - cpu[3] - cpu[4], total }; // minus idle and iowait
}

/**
 * Clock ticks of the PostgreSQL processes working for database `db`: its backends plus the
 * cluster's shared background processes (WAL writer, checkpointer...). Backends of other
 * databases are left out (they are other people's load).
 */
export function postgresTicks(db: string): number {
  let ticks = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8").replace(/\0/g, " ");
    } catch {
      continue;
    }
    if (!cmdline.startsWith("postgres")) continue;
    const backend =
      /^postgres: [^:]+: \S+ (\S+) \S+\(\d+\)/.exec(cmdline) ?? /^postgres: [^:]+: \S+ (\S+) \[local\]/.exec(cmdline);
    if (backend && backend[1] !== db) continue;
    ticks += processTicks(Number(entry));
  }
  return ticks;
}

export const CLOCK_TICKS_PER_S = 100;

/** What bench/load.lua's done() prints, plus wrk's own CPU time. */
export interface LoadResult {
  sent: number;
  received: number;
  earn_ok: number;
  other_ok: number;
  bad_2xx: number;
  non2xx: number;
  /** 503 outcome_unknown answers: their earns may or may not be applied */
  unknown: number;
  elapsed_ms: number;
  wrk_duration_ms: number;
  errors: { connect: number; read: number; write: number; timeout: number };
  codes: string;
  p50_ms: number;
  p95_ms: number;
  p99_ms: number;
  max_ms: number;
  mean_ms: number;
  wrkCpuS: number;
}

export interface LoadOptions {
  url: string;
  mode: "earn" | "mix" | "health" | "notfound" | "once";
  tokensFile: string;
  durationS: number;
  amount: number;
  connections: number;
  threads: number;
  /** upper bound of the whole run (only reached when requests are lost to socket errors) */
  maxS: number;
}

/** Runs wrk with bench/load.lua, stops it once every thread has drained, and parses its result. */
export async function runWrk(o: LoadOptions): Promise<LoadResult> {
  const threads = Math.max(1, Math.min(o.threads, o.connections));
  const args = [
    "wrk",
    "-t",
    String(threads),
    "-c",
    String(o.connections),
    "-d",
    `${o.maxS}s`,
    "--timeout",
    "120s",
    "-s",
    join(import.meta.dir, "load.lua"),
    o.url,
    "--",
    o.mode,
    o.tokensFile,
    String(o.durationS),
    String(o.amount),
    String(threads),
  ];
  const proc = Bun.spawn(args, { stdout: "pipe", stderr: "pipe" });
  let out = "";
  let signalled = false;
  const decoder = new TextDecoder();
  for await (const chunk of proc.stdout) {
    out += decoder.decode(chunk, { stream: true });
    if (!signalled && (out.match(/BENCH_THREAD_DONE/g)?.length ?? 0) >= threads) {
      signalled = true;
      proc.kill("SIGINT"); // every thread drained: wake wrk's main thread to print the summary
    }
  }
  await proc.exited;
  const line = out.split("\n").find((l) => l.startsWith("BENCH_JSON "));
  if (!line)
    throw new Error(`wrk gave no result (exit ${proc.exitCode}):\n${out}\n${await new Response(proc.stderr).text()}`);
  const usage = proc.resourceUsage();
  const wrkCpuS = usage ? Number(usage.cpuTime.user + usage.cpuTime.system) / 1e6 : 0;
  return { ...(JSON.parse(line.slice("BENCH_JSON ".length)) as Omit<LoadResult, "wrkCpuS">), wrkCpuS };
}

/** Exits with a hint when wrk is not installed. */
export function requireWrk(): void {
  if (Bun.which("wrk")) return;
  console.error(
    "bench: wrk not found on PATH. Install it with `apt-get install -y wrk` (Debian/Ubuntu) and run again.",
  );
  process.exit(2);
}

/** Runs a benchmark's main: cleanup after success, failure or Ctrl-C, then exit with main's code (1 on a crash). */
export function runBenchMain(name: string, main: () => Promise<number>, cleanup: () => Promise<void>): void {
  process.on("SIGINT", () => void cleanup().then(() => process.exit(130)));
  main()
    .then(async (code) => {
      await cleanup();
      process.exit(code);
    })
    .catch(async (error) => {
      console.error(`${name} failed: ${(error as Error).stack ?? error}`);
      await cleanup();
      process.exit(1);
    });
}
