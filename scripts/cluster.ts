/**
 * `npm run cluster -- --instances N`: N API instances on one PostgreSQL, HAProxy in front.
 *
 *   PORT=8000 DATABASE_URL=postgres://... npm run cluster -- --instances 2
 *
 * Instance i listens on PORT+i (INSTANCE_ID hostname:PORT+i), HAProxy on PORT with the config of
 * scripts/cluster/haproxy.ts, written to a temporary folder (with HAProxy's admin socket). The
 * first instance starts alone (it applies the migrations), the others after it. One JSON line per
 * step on stdout; `cluster ready` lists every pid, port and the config path.
 *
 * SIGTERM or Ctrl-C: HAProxy stops accepting and finishes the requests in flight (soft stop), then
 * every instance drains and commits its mailboxes (SIGTERM), then the folder is removed. Exit 0
 * when every instance and HAProxy exited 0; 1 when one of them had died or failed to stop (an
 * instance that dies while the cluster runs is logged and left down: HAProxy routes around it);
 * 2 on bad usage: DATABASE_URL unset or PGlite (several processes need a real PostgreSQL), or no haproxy.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { findHaproxy, haproxyConfig, INSTALL_HINT } from "./cluster/haproxy.ts";

const REPO_ROOT = join(import.meta.dir, "..");
const DEFAULT_POOL_TOTAL = 30; // one instance's DB_POOL_MAX default: N instances share it, they do not multiply it
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;

function say(level: "info" | "warn" | "error", msg: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(
    JSON.stringify({ time: new Date().toISOString(), level, msg, component: "cluster", ...fields }) + "\n",
  );
}

function fail(message: string, code = 2): never {
  say("error", message);
  process.exit(code);
}

/** `--instances N` (1..64); exits 2 on anything else. */
export function parseInstances(argv: string[]): number {
  let instances = 2;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === "--") continue;
    if (flag === "--instances") {
      const value = Number(argv[++i]);
      if (!Number.isInteger(value) || value < 1 || value > 64)
        fail(`--instances must be an integer between 1 and 64, got "${argv[i]}"`);
      instances = value;
    } else if (flag === "--help" || flag === "-h") {
      console.log("usage: PORT=8000 DATABASE_URL=postgres://... npm run cluster -- --instances N");
      process.exit(0);
    } else fail(`unknown flag ${flag}; usage: npm run cluster -- --instances N`);
  }
  return instances;
}

interface Instance {
  index: number;
  id: string;
  port: number;
  url: string;
  proc: Bun.Subprocess;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function waitHealthy(url: string, proc: Bun.Subprocess, what: string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null || proc.signalCode)
      throw new Error(`${what} exited during start-up (${proc.exitCode ?? proc.signalCode})`);
    try {
      if ((await fetch(`${url}/health`)).status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  throw new Error(`${what} did not answer GET /health with 200 within ${START_TIMEOUT_MS / 1000} s`);
}

/** SIGTERM (or `signal`), SIGKILL after `timeoutMs`; the exit code, or the signal's name when killed. */
async function stopProcess(proc: Bun.Subprocess, signal: NodeJS.Signals, timeoutMs: number): Promise<number | string> {
  if (proc.exitCode === null && !proc.signalCode) {
    proc.kill(signal);
    const exited = await Promise.race([proc.exited.then(() => true), sleep(timeoutMs).then(() => false)]);
    if (!exited) {
      proc.kill("SIGKILL");
      await proc.exited;
    }
  }
  return proc.exitCode ?? proc.signalCode ?? "unknown";
}

async function main(): Promise<void> {
  const instances = parseInstances(process.argv.slice(2));
  const databaseUrl = process.env.DATABASE_URL ?? "";
  if (!/^postgres(ql)?:\/\//.test(databaseUrl)) {
    fail(
      `DATABASE_URL must be a PostgreSQL URL (postgres://...), got ${databaseUrl ? `"${databaseUrl.replace(/:[^:@/]*@/, ":***@")}"` : "nothing"}: ` +
        "several processes cannot share PGlite",
    );
  }
  const haproxyBin = findHaproxy() ?? fail(INSTALL_HINT);
  let config: typeof import("../src/config.ts").config;
  try {
    ({ config } = await import("../src/config.ts"));
  } catch (error) {
    fail((error as Error).message); // a bad environment variable, named
  }
  if (config.port < 1 || config.port + instances > 65535)
    fail(`PORT must leave room for ${instances} instance ports above it, got ${config.port}`);
  const poolPerInstance = process.env.DB_POOL_MAX
    ? String(config.dbPoolMax)
    : String(Math.max(2, Math.floor(DEFAULT_POOL_TOTAL / instances)));

  const dir = mkdtempSync(join(tmpdir(), "cluster-"));
  const started: Instance[] = [];
  let haproxy: Bun.Subprocess | undefined;
  let stopping = false;
  let died = false;

  const stop = async (reason: string, code = 0) => {
    if (stopping) return;
    stopping = true;
    say("info", "stopping: HAProxy finishes the requests in flight, then every instance drains its mailboxes", {
      reason,
    });
    const haproxyExit = haproxy ? await stopProcess(haproxy, "SIGUSR1", config.requestTimeoutMs + 10_000) : 0;
    const exits = await Promise.all(started.map((instance) => stopProcess(instance.proc, "SIGTERM", STOP_TIMEOUT_MS)));
    started.forEach((instance, i) => {
      say(exits[i] === 0 ? "info" : "error", "instance stopped", { instance: instance.id, exit: exits[i] });
    });
    rmSync(dir, { recursive: true, force: true });
    const clean = haproxyExit === 0 && exits.every((e) => e === 0) && !died;
    say(clean ? "info" : "error", "cluster stopped", { haproxyExit, instancesExit: exits });
    process.exit(code || (clean ? 0 : 1));
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
  // a parent that died without passing a signal on (a killed `npm run`) must not leave the instances running
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) void stop("parent process exited");
  }, 1000).unref();

  const spawnInstance = (index: number): Instance => {
    const port = config.port + index;
    const id = process.env.INSTANCE_ID ? `${process.env.INSTANCE_ID}-${index}` : `${hostname()}:${port}`;
    const proc = Bun.spawn([process.execPath, "src/index.ts"], {
      cwd: REPO_ROOT,
      env: { ...process.env, PORT: String(port), INSTANCE_ID: id, DB_POOL_MAX: poolPerInstance },
      stdout: "inherit",
      stderr: "inherit",
    });
    const instance = { index, id, port, url: `http://127.0.0.1:${port}`, proc };
    started.push(instance);
    void proc.exited.then(() => {
      if (stopping) return;
      died = true;
      say("error", "instance exited unexpectedly; HAProxy routes around it", {
        instance: id,
        pid: proc.pid,
        exit: proc.exitCode ?? proc.signalCode,
      });
    });
    return instance;
  };

  try {
    // the first instance applies the migrations alone: two processes migrating a fresh database would collide
    const first = spawnInstance(1);
    await waitHealthy(first.url, first.proc, `instance ${first.id}`);
    const rest = Array.from({ length: instances - 1 }, (_, i) => spawnInstance(i + 2));
    await Promise.all(rest.map((instance) => waitHealthy(instance.url, instance.proc, `instance ${instance.id}`)));
    for (const instance of started)
      say("info", "instance ready", {
        instance: instance.id,
        pid: instance.proc.pid,
        port: instance.port,
        url: instance.url,
      });

    const configPath = join(dir, "haproxy.cfg");
    const statsSocket = join(dir, "haproxy.sock");
    writeFileSync(
      configPath,
      haproxyConfig({
        listenPort: config.port,
        backends: {
          kind: "static",
          servers: started.map((instance) => ({ name: `i${instance.index}`, host: "127.0.0.1", port: instance.port })),
        },
        requestTimeoutMs: config.requestTimeoutMs,
        statsSocket,
      }),
    );
    const proxy = Bun.spawn([haproxyBin, "-db", "-f", configPath], { stdout: "inherit", stderr: "inherit" });
    haproxy = proxy;
    void proxy.exited.then(() => {
      if (!stopping) void stop(`HAProxy exited unexpectedly (${proxy.exitCode ?? proxy.signalCode})`, 1);
    });
    const url = `http://127.0.0.1:${config.port}`;
    await waitHealthy(url, proxy, "HAProxy");
    say("info", "cluster ready", {
      url,
      haproxy: { pid: proxy.pid, config: configPath, statsSocket },
      instances: started.map((instance) => ({
        id: instance.id,
        pid: instance.proc.pid,
        port: instance.port,
        url: instance.url,
      })),
    });
  } catch (error) {
    say("error", `start-up failed: ${(error as Error).message}`);
    await stop("start-up failed", 1);
  }
}

if (import.meta.main) void main();
