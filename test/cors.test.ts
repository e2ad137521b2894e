/**
 * CORS: ALLOWED_ORIGINS lists the browser origins that get Access-Control-* headers; unset = none at all;
 * `*` (or a malformed origin) stops start-up in production.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "bun";
import { Elysia } from "elysia";
import { cors } from "../src/plugins/cors";
import { call, type ServerProcess, startServer } from "./helpers";

const GAME = "https://game.example.com";
const DEV = "http://localhost:5173";

const corsHeaders = (headers: Headers) => [...headers.keys()].filter((name) => name.startsWith("access-control-"));

function preflight(
  url: string,
  origin: string,
  method = "POST",
  requestHeaders = "authorization, content-type, idempotency-key, x-request-id",
) {
  return fetch(url, {
    method: "OPTIONS",
    headers: { origin, "access-control-request-method": method, "access-control-request-headers": requestHeaders },
  });
}

/** Runs `bun src/index.ts` with env and returns its exit code and output (start-up failures exit at once). */
function startUp(env: Record<string, string>) {
  const result = spawnSync({
    cmd: [process.execPath, "src/index.ts"],
    env: { ...process.env, PORT: "0", ...env },
    timeout: 30_000,
  });
  return { exitCode: result.exitCode, output: result.stdout.toString() + result.stderr.toString() };
}

describe("ALLOWED_ORIGINS unset (the test process)", () => {
  test("no CORS headers on a request or a preflight, whatever the origin", async () => {
    const response = await call("GET", "/health", { headers: { origin: GAME } });
    expect(response.status).toBe(200);
    expect(corsHeaders(response.headers)).toEqual([]);
    const options = await call("OPTIONS", "/login", {
      headers: { origin: GAME, "access-control-request-method": "POST" },
    });
    expect(corsHeaders(options.headers)).toEqual([]);
    expect(options.headers.get("vary")).toBeNull();
  });
});

describe("ALLOWED_ORIGINS set (a real server)", () => {
  let server: ServerProcess;
  beforeAll(async () => {
    // PGlite's migrations alone took 20 s on the shared 2-core machine: the start-up gets 120 s
    server = await startServer({ ALLOWED_ORIGINS: ` ${GAME}, ${DEV} ` }, 120_000);
  }, 180_000);
  afterAll(() => server?.process.kill());

  test("preflight from a listed origin: 204 with the methods, the four request headers and a max age", async () => {
    for (const origin of [GAME, DEV]) {
      const response = await preflight(`${server.url}/earn`, origin);
      expect(response.status).toBe(204);
      expect(response.headers.get("access-control-allow-origin")).toBe(origin);
      expect(response.headers.get("access-control-allow-methods")).toBe("GET, POST");
      expect(response.headers.get("access-control-allow-headers")).toBe(
        "Authorization, Content-Type, Idempotency-Key, X-Request-ID",
      );
      expect(Number(response.headers.get("access-control-max-age"))).toBeGreaterThan(0);
      expect(response.headers.get("vary")).toBe("Origin");
      expect(response.headers.get("access-control-allow-credentials")).toBeNull();
      expect(await response.text()).toBe("");
    }
  });

  test("responses to a listed origin, errors included, carry the origin and expose X-Request-ID, Idempotent-Replayed, Retry-After", async () => {
    const login = await fetch(`${server.url}/login`, {
      method: "POST",
      headers: { origin: GAME, "content-type": "application/json" },
      body: JSON.stringify({ userId: "cors_user" }),
    });
    expect(login.status).toBe(200);
    const unauthorized = await fetch(`${server.url}/balance`, { headers: { origin: GAME } });
    expect(unauthorized.status).toBe(401);
    const notFound = await fetch(`${server.url}/nowhere`, { headers: { origin: GAME } });
    expect(notFound.status).toBe(404);
    const tooLarge = await fetch(`${server.url}/login`, {
      method: "POST",
      headers: { origin: GAME, "content-type": "application/json" },
      body: JSON.stringify({ userId: "x".repeat(70_000) }),
    });
    expect(tooLarge.status).toBe(413);
    const invalid = await fetch(`${server.url}/login`, {
      method: "POST",
      headers: { origin: GAME, "content-type": "application/json" },
      body: JSON.stringify({ userId: 5 }),
    });
    expect(invalid.status).toBe(422);
    for (const response of [login, unauthorized, notFound, tooLarge, invalid]) {
      expect(response.headers.get("access-control-allow-origin")).toBe(GAME);
      expect(response.headers.get("access-control-expose-headers")).toBe(
        "X-Request-ID, Idempotent-Replayed, Retry-After",
      );
      expect(response.headers.get("x-request-id")).toBeTruthy();
      expect(response.headers.get("vary")).toBe("Origin");
    }
  });

  test("a disallowed origin, a look-alike or no Origin at all gets no CORS headers", async () => {
    for (const origin of [
      "https://evil.example",
      "http://game.example.com",
      "https://game.example.com.evil.example",
      "null",
    ]) {
      const get = await fetch(`${server.url}/health`, { headers: { origin } });
      expect(get.status).toBe(200);
      expect(corsHeaders(get.headers)).toEqual([]);
      const options = await preflight(`${server.url}/earn`, origin);
      expect(options.status).toBe(204);
      expect(corsHeaders(options.headers)).toEqual([]);
    }
    const noOrigin = await fetch(`${server.url}/health`);
    expect(corsHeaders(noOrigin.headers)).toEqual([]);
  });
});

describe("the plugin with *", () => {
  const app = new Elysia().use(cors(["*"])).get("/x", () => "ok");
  test("any origin gets Access-Control-Allow-Origin: * and no Vary", async () => {
    const response = await app.handle(
      new Request("http://localhost/x", { headers: { origin: "https://anywhere.example" } }),
    );
    expect(response.headers.get("access-control-allow-origin")).toBe("*");
    expect(response.headers.get("vary")).toBeNull();
  });
});

describe("start-up refuses", () => {
  const production = {
    NODE_ENV: "production",
    JWT_SECRET: "x".repeat(40),
    ADMIN_TOKEN: "a".repeat(40),
    AF_PUSH_TOKEN: "",
  };
  test("ALLOWED_ORIGINS=* in production, naming the variable", () => {
    const result = startUp({ ...production, ALLOWED_ORIGINS: `${GAME},*` });
    expect(result.exitCode).toBe(1);
    expect(result.output).toContain("start-up failed at config");
    expect(result.output).toContain("ALLOWED_ORIGINS must not be * when NODE_ENV=production");
  });
  test("an entry that is not an origin (path, trailing slash, no scheme)", () => {
    for (const entry of [`${GAME}/`, `${GAME}/play`, "game.example.com", "null"]) {
      const result = startUp({ ALLOWED_ORIGINS: entry });
      expect(result.exitCode).toBe(1);
      expect(result.output).toContain("ALLOWED_ORIGINS entries must be * or an origin");
    }
  });
});
