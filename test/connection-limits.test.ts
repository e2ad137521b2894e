/**
 * What only a real socket shows (hardening findings 3, 5, 6): per-address limits on the anonymous routes,
 * a deadline for slow request bodies, the cap on requests in flight, log lines, the HOST setting.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import net from "node:net";
import { createTempDatabase, postgresAvailable, type ServerProcess, startServer } from "./helpers";

let server: ServerProcess;
const cleanups: (() => unknown)[] = [];
// a throw-away PostgreSQL database when there is one: the server starts in ~1 s instead of compiling PGlite's WASM
let databaseUrl = "memory://";
beforeAll(async () => {
  if (await postgresAvailable()) {
    const database = await createTempDatabase("limits");
    cleanups.push(database.drop);
    databaseUrl = database.url;
  }
  server = await startServer({
    DATABASE_URL: databaseUrl,
    LOG_LEVEL: "info",
    RATE_LIMIT_LOGIN_PER_IP: "1",
    RATE_LIMIT_TRACK_PER_IP: "1",
    RATE_LIMIT_ANON_PER_IP: "1",
    CLIENT_IP_HEADER: "X-Forwarded-For",
    BODY_TIMEOUT_MS: "1000",
    MAX_REQUESTS_IN_FLIGHT: "20",
  });
}, 60_000);
afterAll(async () => {
  server?.process.kill();
  await server?.process.exited;
  for (const cleanup of cleanups) await cleanup();
});

const asClient = (address: string, extra: Record<string, string> = {}) => ({
  "x-forwarded-for": `10.9.9.9, ${address}`,
  ...extra,
});
const loginAs = (address: string, userId: string) =>
  fetch(`${server.url}/login`, {
    method: "POST",
    headers: asClient(address, { "content-type": "application/json" }),
    body: JSON.stringify({ userId }),
  });

describe("per-address limits (RATE_LIMIT_*_PER_IP, burst of 5 s worth)", () => {
  test("POST /login: the 6th call in a burst is a 429 with Retry-After; another address is unaffected", async () => {
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await loginAs("10.0.0.1", `limit_user_${i}`)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    const refused = await loginAs("10.0.0.1", "limit_user_x");
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(((await refused.json()) as any).error.code).toBe("rate_limited");
    expect((await loginAs("10.0.0.2", "limit_user_y")).status).toBe(200);
  });

  test("GET /track: the 6th call in a burst is a 429", async () => {
    const statuses = [];
    for (let i = 0; i < 6; i++)
      statuses.push((await fetch(`${server.url}/track?campaign=c${i}`, { headers: asClient("10.0.1.1") })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
  });

  test("GET /stats without a token is limited per address; with a token it is not", async () => {
    const statuses = [];
    for (let i = 0; i < 6; i++)
      statuses.push((await fetch(`${server.url}/stats`, { headers: asClient("10.0.2.1") })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    const { token } = (await (await loginAs("10.0.2.2", "stats_reader")).json()) as { token: string };
    for (let i = 0; i < 8; i++)
      expect(
        (await fetch(`${server.url}/stats`, { headers: asClient("10.0.2.1", { authorization: `Bearer ${token}` }) }))
          .status,
      ).toBe(200);
  });
});

/** Opens a raw connection, sends headers announcing `length` body bytes, then one byte every `everyMs`. */
function slowBody(path: string, length: number, everyMs: number) {
  const socket = net.connect(Number(new URL(server.url).port), "127.0.0.1");
  let received = "";
  const started = performance.now();
  const closed = new Promise<{ ms: number; response: string }>((resolve) => {
    socket.on("data", (chunk) => (received += chunk.toString()));
    socket.on("close", () => resolve({ ms: performance.now() - started, response: received }));
    socket.on("error", () => {});
  });
  socket.write(
    `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n{`,
  );
  const drip = setInterval(() => !socket.destroyed && socket.write(" "), everyMs);
  return { closed: closed.finally(() => clearInterval(drip)), destroy: () => socket.destroy() };
}

describe("slow request bodies (BODY_TIMEOUT_MS, MAX_REQUESTS_IN_FLIGHT)", () => {
  test("a body dripping one byte every 300 ms gets a JSON 408 at the deadline and its connection is closed", async () => {
    const slow = slowBody("/login", 100, 300);
    const outcome = await Promise.race([slow.closed, Bun.sleep(5000).then(() => undefined)]);
    slow.destroy();
    expect(outcome).toBeDefined();
    expect(outcome!.ms).toBeGreaterThan(900);
    expect(outcome!.ms).toBeLessThan(3000);
    expect(outcome!.response).toStartWith("HTTP/1.1 408");
    const body = JSON.parse(outcome!.response.slice(outcome!.response.indexOf("\r\n\r\n") + 4));
    expect(body.error.code).toBe("request_timeout");
  });

  test("past the cap on requests in flight a request is a quick 503 with its connection closed; /health still answers", async () => {
    const slow = Array.from({ length: 25 }, () => slowBody("/event", 100, 200));
    await Bun.sleep(300);
    const started = performance.now();
    const refused = await fetch(`${server.url}/stats`, { headers: asClient("10.0.3.1") });
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(((await refused.json()) as any).error.code).toBe("overloaded");
    expect(performance.now() - started).toBeLessThan(1000);
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    const outcomes = await Promise.all(slow.map((s) => s.closed));
    // every slow body ended by the deadline: a 408, or the 503 of the cap
    for (const outcome of outcomes) expect(outcome.response).toMatch(/^HTTP\/1\.1 (408|503)/);
    expect(Math.max(...outcomes.map((o) => o.ms))).toBeLessThan(3000);
    expect((await fetch(`${server.url}/stats`, { headers: asClient("10.0.3.2") })).status).toBe(200);
  });
});

describe("log lines", () => {
  test("a userId with U+2028 reaches the request log escaped, on one line", async () => {
    const userId = "line\u2028break";
    const { token } = (await (await loginAs("10.0.4.1", userId)).json()) as { token: string };
    await fetch(`${server.url}/balance`, { headers: { authorization: `Bearer ${token}`, "x-request-id": "sep-log" } });
    await Bun.sleep(200);
    const output = server.output();
    expect(output).not.toContain("\u2028");
    const line = output.split("\n").find((l) => l.includes('"sep-log"'))!;
    expect(line).toContain("line\\u2028break");
    expect(JSON.parse(line).userId).toBe(userId);
  });
});

describe("HOST", () => {
  test("HOST=127.0.0.2 listens there only; a bad HOST stops start-up naming the variable", async () => {
    const probe = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
    const port = probe.port!;
    probe.stop(true);
    const child = Bun.spawn({
      cmd: [process.execPath, "src/index.ts"],
      env: { ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: "warn", HOST: "127.0.0.2", PORT: String(port) },
      stdout: "pipe",
      stderr: "pipe",
    });
    try {
      let up = false;
      const deadline = Date.now() + 40_000; // start-up runs migrations: slow on a busy machine
      while (!up && Date.now() < deadline) {
        up = await fetch(`http://127.0.0.2:${port}/health`).then(
          (r) => r.ok,
          () => false,
        );
        if (!up) await Bun.sleep(100);
      }
      expect(up).toBe(true);
      expect(
        await fetch(`http://127.0.0.1:${port}/health`).then(
          () => "answered",
          () => "refused",
        ),
      ).toBe("refused");
    } finally {
      child.kill();
      await child.exited;
    }
    const bad = Bun.spawnSync({
      cmd: [process.execPath, "src/index.ts"],
      env: { ...process.env, DATABASE_URL: "memory://", HOST: "not a host!" },
      timeout: 20_000,
    });
    expect(bad.exitCode).toBe(1);
    expect(bad.stdout.toString() + bad.stderr.toString()).toContain("HOST must be");
  }, 90_000);
});
