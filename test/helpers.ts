/** Shared test helpers: requests through app.handle, logins, and throw-away PostgreSQL databases. */
import { type Subprocess, spawn } from "bun";
import postgres from "postgres";
import { app } from "../src/app";

export interface Call {
  body?: unknown;
  /** raw body text, sent as is */
  raw?: string;
  token?: string;
  headers?: Record<string, string>;
}

export async function call(method: string, path: string, options: Call = {}) {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined = options.raw;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers["content-type"] ??= "application/json";
  }
  const response = await app.handle(new Request(`http://localhost${path}`, { method, headers, body }));
  const text = await response.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, json, text };
}

let counter = 0;
/** A user id no other test uses, so tests never share a wallet. */
export const uniqueUser = (prefix = "user") => `${prefix}_${process.pid}_${Date.now().toString(36)}_${++counter}`;

export async function login(userId = uniqueUser()): Promise<{ userId: string; token: string }> {
  const response = await call("POST", "/login", { body: { userId } });
  if (response.status !== 200) throw new Error(`login failed: ${response.status} ${response.text}`);
  return { userId, token: response.json.token };
}

/** The machine's PostgreSQL (trust auth); override with PG_ADMIN_URL. */
const PG_ADMIN_URL = process.env.PG_ADMIN_URL ?? "postgres://postgres@127.0.0.1:5432/test";

export async function postgresAvailable(): Promise<boolean> {
  const sql = postgres(PG_ADMIN_URL, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await sql`select 1`;
    return true;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** Creates a fresh database; returns its URL and a drop function. */
export async function createTempDatabase(prefix = "t"): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6)}`;
  const admin = postgres(PG_ADMIN_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${name}"`);
  await admin.end();
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const sql = postgres(PG_ADMIN_URL, { max: 1, onnotice: () => {} });
      await sql.unsafe(`drop database if exists "${name}" with (force)`);
      await sql.end();
    },
  };
}

export interface ServerProcess {
  url: string;
  process: Subprocess;
  output: () => string;
}

/** A port the OS just handed out, so parallel servers never collide. */
function freePort(): number {
  const probe = Bun.serve({ port: 0, fetch: () => new Response() });
  const port = probe.port!;
  probe.stop(true);
  return port;
}

/** Starts `bun src/index.ts` on a free port and waits until /health answers (at most timeoutMs). */
export async function startServer(env: Record<string, string>, timeoutMs = 30_000): Promise<ServerProcess> {
  const port = freePort();
  const child = spawn({
    cmd: [process.execPath, "src/index.ts"],
    env: { ...process.env, LOG_LEVEL: "warn", ...env, PORT: String(port) },
    stdout: "pipe",
    stderr: "pipe",
  });
  let log = "";
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) log += new TextDecoder().decode(chunk);
  };
  void collect(child.stdout as ReadableStream<Uint8Array>);
  void collect(child.stderr as ReadableStream<Uint8Array>);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited ${child.exitCode}: ${log}`);
    try {
      if ((await fetch(`${url}/health`)).ok) return { url, process: child, output: () => log };
    } catch {}
    await Bun.sleep(100);
  }
  child.kill();
  throw new Error(`server did not start: ${log}`);
}

/** Logs every user in over HTTP; returns userId -> token. */
export async function loginAll(url: string, userIds: string[]): Promise<Map<string, string>> {
  const tokens = new Map<string, string>();
  for (const userId of userIds) {
    const response = await fetch(`${url}/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ userId }),
    });
    tokens.set(userId, ((await response.json()) as { token: string }).token);
  }
  return tokens;
}

/** Runs tasks with at most `limit` in flight. */
export async function pool<T>(tasks: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < tasks.length) {
        const i = next++;
        results[i] = await tasks[i]();
      }
    }),
  );
  return results;
}

/** Polls GET /health until it answers 200 (every 100 ms, up to `tries` times); true when it did. */
export async function waitHealthy(url: string, tries = 50): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if ((await fetch(`${url}/health`)).status === 200) return true;
    await Bun.sleep(100);
  }
  return false;
}
