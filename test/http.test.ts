import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { call, login, type ServerProcess, startServer } from "./helpers";

describe("X-Request-ID", () => {
  test("echoes a valid caller id on success, errors and 404s", async () => {
    for (const [method, path] of [
      ["GET", "/health"],
      ["GET", "/balance"],
      ["GET", "/no/such/route"],
    ]) {
      const response = await call(method, path, { headers: { "x-request-id": "abc-123_X.y" } });
      expect(response.headers.get("x-request-id")).toBe("abc-123_X.y");
    }
  });

  test.each([
    ["too long", "a".repeat(129)],
    ["bad characters", "abc def"],
    ["injection", "x\r\nSet-Cookie: a=b".replace(/\r\n/g, "%0d%0a")],
  ])("replaces a %s id with a fresh UUID", async (_, given) => {
    const response = await call("GET", "/health", { headers: { "x-request-id": given } });
    expect(response.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  test("404 is the JSON error shape with the request id inside", async () => {
    const response = await call("GET", "/nope");
    expect(response.status).toBe(404);
    expect(response.json.error).toEqual({
      code: "not_found",
      message: "no such route",
      requestId: response.headers.get("x-request-id")!,
    });
  });
});

describe("GET /health", () => {
  test("reports the database up with its driver and latency", async () => {
    const response = await call("GET", "/health");
    expect(response.status).toBe(200);
    expect(response.json).toMatchObject({ status: "ok", db: { status: "up" }, version: expect.any(String) });
    expect(["pglite", "postgres"]).toContain(response.json.db.driver);
    expect(response.json.db.latencyMs).toBeGreaterThanOrEqual(0);
    expect(Number.isNaN(Date.parse(response.json.timestamp))).toBe(false);
  });
});

describe("GET /docs", () => {
  test("serves Swagger UI and an OpenAPI document with every route and its schemas", async () => {
    expect((await call("GET", "/docs")).text).toContain("swagger-ui");
    const spec = (await call("GET", "/docs/json")).json;
    for (const path of [
      "/login",
      "/earn",
      "/spend",
      "/balance",
      "/wallet/ledger",
      "/event",
      "/events",
      "/stats",
      "/track",
      "/health",
    ]) {
      expect(spec.paths[path]).toBeDefined();
    }
    expect(JSON.stringify(spec.paths["/earn"].post.requestBody)).toContain("amount");
  });
});

describe("over a real socket", () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServer({ DATABASE_URL: "memory://", LOG_LEVEL: "info" });
  }, 30_000);
  afterAll(() => {
    server?.process.kill();
  });

  test("a body over 64 KiB is a JSON 413 with X-Request-ID, not the runtime's bare 413", async () => {
    const response = await fetch(`${server.url}/login`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": "big-1" },
      body: JSON.stringify({ userId: "x".repeat(70_000) }),
    });
    expect(response.status).toBe(413);
    expect(response.headers.get("x-request-id")).toBe("big-1");
    expect(((await response.json()) as any).error.code).toBe("payload_too_large");
  });

  test("a chunked body over 64 KiB without Content-Length is also a JSON 413", async () => {
    const chunk = new TextEncoder().encode("x".repeat(16 * 1024));
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"userId":"'));
        for (let i = 0; i < 6; i++) controller.enqueue(chunk);
        controller.enqueue(new TextEncoder().encode('"}'));
        controller.close();
      },
    });
    const response = await fetch(`${server.url}/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: stream,
    });
    expect(response.status).toBe(413);
    expect(((await response.json()) as any).error.code).toBe("payload_too_large");
  });

  test("every request writes one JSON log line with the request fields", async () => {
    const loginResponse = await fetch(`${server.url}/login`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": "log-me" },
      body: '{"userId":"logger"}',
    });
    const { token } = (await loginResponse.json()) as { token: string };
    await fetch(`${server.url}/balance`, {
      headers: { authorization: `Bearer ${token}`, "x-request-id": "log-me-too" },
    });
    await Bun.sleep(200);
    const lines = server
      .output()
      .split("\n")
      .filter((line) => line.includes('"log-me-too"'));
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]);
    expect(entry).toMatchObject({
      level: "info",
      requestId: "log-me-too",
      method: "GET",
      path: "/balance",
      status: 200,
      userId: "logger",
    });
    expect(typeof entry.time).toBe("string");
    expect(entry.durationMs).toBeGreaterThanOrEqual(0);
  });
});

describe("start-up configuration", () => {
  const run = (env: Record<string, string>) => {
    const result = Bun.spawnSync({
      cmd: [process.execPath, "src/index.ts"],
      env: { ...process.env, DATABASE_URL: "memory://", ...env },
      timeout: 20_000,
    });
    return { code: result.exitCode, output: result.stdout.toString() + result.stderr.toString() };
  };

  test("NODE_ENV=production with the default or a short JWT_SECRET refuses to start", () => {
    for (const secret of ["", "short"]) {
      const { code, output } = run({ NODE_ENV: "production", JWT_SECRET: secret });
      expect(code).toBe(1);
      expect(output).toContain("JWT_SECRET");
    }
  });

  test("a bad value stops start-up naming the variable", () => {
    for (const [name, value] of [
      ["PORT", "eighty"],
      ["DB_POOL_MAX", "0"],
      ["DATABASE_URL", "mysql://x"],
      ["LOG_LEVEL", "loud"],
    ]) {
      const { code, output } = run({ [name]: value });
      expect(code).toBe(1);
      expect(output).toContain(name);
    }
  });
});

test("a logged-in user can use every Bearer route with one token", async () => {
  const { token } = await login();
  for (const [method, path] of [
    ["GET", "/balance"],
    ["GET", "/wallet/ledger"],
    ["GET", "/events"],
    ["GET", "/stats"],
  ]) {
    expect((await call(method, path, { token })).status).toBe(200);
  }
});

describe("GET /metrics", () => {
  test("exposes request durations per route and the wallet's batch sizes, commits and actors", async () => {
    const { token } = await login();
    await call("POST", "/earn", { token, body: { amount: 3 } });
    await Bun.sleep(50); // the duration is observed after the response is sent
    const response = await call("GET", "/metrics");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/plain");
    for (const name of [
      "http_request_duration_seconds_bucket",
      "wallet_batch_size_bucket",
      "wallet_commits_total",
      "wallet_live_actors",
      "wallet_mailbox_depth",
      "db_pool_in_use",
    ]) {
      expect(response.text).toContain(name);
    }
    expect(response.text).toMatch(
      /http_request_duration_seconds_count\{method="POST",route="\/earn",status="200"\} [1-9]/,
    );
    expect(response.text).toMatch(/wallet_commits_total [1-9]/);
  });
});
