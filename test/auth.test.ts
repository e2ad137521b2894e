import { describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { eq } from "drizzle-orm";
import { db } from "../src/db/client";
import { users } from "../src/db/schema";
import { UnauthorizedError } from "../src/errors";
import { verifyHs256 } from "../src/modules/auth/service";
import { call, login, uniqueUser } from "./helpers";

const SECRET = process.env.JWT_SECRET ?? "test_secret";
const b64 = (value: unknown) =>
  Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");

/** Builds a JWT by hand, so tests can forge every kind of bad token. */
function forge(header: Record<string, unknown>, payload: Record<string, unknown>, secret = SECRET, hash = "sha256") {
  const signingInput = `${b64(header)}.${b64(payload)}`;
  const signature = header.alg === "none" ? "" : createHmac(hash, secret).update(signingInput).digest("base64url");
  return `${signingInput}.${signature}`;
}

const now = () => Math.floor(Date.now() / 1000);

describe("POST /login", () => {
  test("returns a token, the userId and expiresAt about JWT_TTL_MIN ahead", async () => {
    const userId = uniqueUser();
    const response = await call("POST", "/login", { body: { userId } });
    expect(response.status).toBe(200);
    expect(response.json.userId).toBe(userId);
    expect(response.json.token.split(".")).toHaveLength(3);
    const ttlMin = (Date.parse(response.json.expiresAt) - Date.now()) / 60_000;
    expect(ttlMin).toBeGreaterThan(118);
    expect(ttlMin).toBeLessThanOrEqual(120);
    const header = JSON.parse(Buffer.from(response.json.token.split(".")[0], "base64url").toString());
    expect(header.alg).toBe("HS256");
  });

  test("concurrent first logins of one user both succeed and create one row", async () => {
    const userId = uniqueUser("race");
    const responses = await Promise.all(Array.from({ length: 10 }, () => call("POST", "/login", { body: { userId } })));
    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(200));
    const rows = await db.select().from(users).where(eq(users.userId, userId));
    expect(rows).toHaveLength(1);
  });

  test.each([
    ["missing", {}, "userId"],
    ["empty", { userId: "" }, "userId"],
    ["too long", { userId: "a".repeat(256) }, "userId"],
    ["wrong type", { userId: 42 }, "userId"],
    ["html characters", { userId: "<script>" }, "userId"],
    ["quote", { userId: "a'b" }, "userId"],
    ["ampersand", { userId: "a&b" }, "userId"],
    ["control character", { userId: "a\u0001b" }, "userId"],
  ])("rejects a %s userId with 422 naming the field", async (_, body, field) => {
    const response = await call("POST", "/login", { body });
    expect(response.status).toBe(422);
    expect(response.json.error.code).toBe("validation_error");
    expect(response.json.error.details.field).toBe(field);
    expect(response.json.error.requestId).toBe(response.headers.get("x-request-id")!);
  });

  test("accepts exactly 255 characters", async () => {
    const response = await call("POST", "/login", { body: { userId: `${uniqueUser()}`.padEnd(255, "x") } });
    expect(response.status).toBe(200);
  });
});

describe("JWT checks on Bearer routes", () => {
  const unauthorized = async (authorization: string | undefined) => {
    const response = await call("GET", "/balance", { headers: authorization === undefined ? {} : { authorization } });
    expect(response.status).toBe(401);
    expect(response.json.error.code).toBe("unauthorized");
  };

  test("a valid token works", async () => {
    const { token } = await login();
    expect((await call("GET", "/balance", { token })).status).toBe(200);
  });
  test("missing token -> 401", () => unauthorized(undefined));
  test("malformed header -> 401", () => unauthorized("Token abc"));
  test("malformed token -> 401", () => unauthorized("Bearer not.a.jwt"));
  test("wrong secret -> 401", async () => {
    const { userId } = await login();
    await unauthorized(
      `Bearer ${forge({ alg: "HS256", typ: "JWT" }, { sub: userId, iat: now(), exp: now() + 600 }, "another_secret")}`,
    );
  });
  test("alg none -> 401", async () => {
    const { userId } = await login();
    await unauthorized(`Bearer ${forge({ alg: "none", typ: "JWT" }, { sub: userId, iat: now(), exp: now() + 600 })}`);
  });
  test.each([
    ["HS384", "sha384"],
    ["HS512", "sha512"],
    ["RS256", "sha256"], // algorithm confusion: an HMAC signature under an RSA header
  ])("%s header with an HMAC of the right secret -> 401 (HS256 only)", async (alg, hash) => {
    const { userId } = await login();
    await unauthorized(
      `Bearer ${forge({ alg, typ: "JWT" }, { sub: userId, iat: now(), exp: now() + 600 }, SECRET, hash)}`,
    );
  });
  test("expired -> 401", async () => {
    const { userId } = await login();
    await unauthorized(
      `Bearer ${forge({ alg: "HS256", typ: "JWT" }, { sub: userId, iat: now() - 7200, exp: now() - 60 })}`,
    );
  });
  test("no exp -> 401", async () => {
    const { userId } = await login();
    await unauthorized(`Bearer ${forge({ alg: "HS256", typ: "JWT" }, { sub: userId, iat: now() })}`);
  });
  test("tampered payload -> 401", async () => {
    const { token } = await login();
    const [header, , signature] = token.split(".");
    await unauthorized(`Bearer ${header}.${b64({ sub: "someone_else", iat: now(), exp: now() + 600 })}.${signature}`);
  });
  test("a correctly signed HS256 token of our own verifies", async () => {
    const { userId } = await login();
    const token = forge({ alg: "HS256", typ: "JWT" }, { sub: userId, iat: now(), exp: now() + 600 });
    const response = await call("GET", "/balance", { token });
    expect(response.status).toBe(200);
    expect(response.json.userId).toBe(userId);
  });
});

describe("verifyHs256", () => {
  const token = (payload: Record<string, unknown>, header: Record<string, unknown> = { alg: "HS256", typ: "JWT" }) =>
    forge(header, payload);
  test("accepts a valid token and returns sub and exp", () => {
    expect(verifyHs256(token({ sub: "p1", iat: now(), exp: now() + 60 }), SECRET)).toEqual({
      sub: "p1",
      exp: expect.any(Number),
    });
  });
  test.each([
    ["no iat", { sub: "p1", exp: now() + 60 }],
    ["empty sub", { sub: "", iat: now(), exp: now() + 60 }],
    ["sub not a string", { sub: 42, iat: now(), exp: now() + 60 }],
    ["exp as a string", { sub: "p1", iat: now(), exp: String(now() + 60) }],
    ["exp exactly now", { sub: "p1", iat: now(), exp: now() }],
    ["not valid before an hour from now", { sub: "p1", iat: now(), exp: now() + 7200, nbf: now() + 3600 }],
  ])("refuses %s", (_, payload) => {
    expect(() => verifyHs256(token(payload), SECRET)).toThrow(UnauthorizedError);
  });
  test("refuses a signature of another length and a missing part", () => {
    const valid = token({ sub: "p1", iat: now(), exp: now() + 60 });
    expect(() => verifyHs256(`${valid}AA`, SECRET)).toThrow(UnauthorizedError);
    expect(() => verifyHs256(valid.split(".").slice(0, 2).join("."), SECRET)).toThrow(UnauthorizedError);
  });
});

const BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

describe("token shape: one token has one spelling (hardening finding 1)", () => {
  test.each([
    ["a trailing '!'", (t: string) => `${t}!`],
    ["trailing padding", (t: string) => `${t}==`],
    ["trailing '$$$'", (t: string) => `${t}$$$`],
    ["a 15,000-character suffix", (t: string) => `${t}${"~".repeat(15_000)}`],
    [
      "a last character differing only in its unused bits",
      (t: string) => t.slice(0, -1) + BASE64URL[BASE64URL.indexOf(t.at(-1)!) ^ 1],
    ],
    ["a non-alphabet character in the signature", (t: string) => `${t.slice(0, -2)}.${t.at(-1)}`],
  ])("%s on a valid token is a 401", async (_, variant) => {
    const { token } = await login();
    expect((await call("GET", "/balance", { token })).status).toBe(200);
    const response = await call("GET", "/balance", { token: variant(token) });
    expect(response.status).toBe(401);
  });

  test("a token over 1 KiB is refused before any HMAC, even when correctly signed", async () => {
    const { userId } = await login();
    const big = forge(
      { alg: "HS256", typ: "JWT" },
      { sub: userId, iat: now(), exp: now() + 600, pad: "p".repeat(1100) },
    );
    expect((await call("GET", "/balance", { token: big })).status).toBe(401);
  });
});

describe("userId: one account per visible name (hardening finding 6)", () => {
  test("NFC and NFD spellings log in to the same account, answered in NFC", async () => {
    const base = `Zo\u00eb_${uniqueUser("nfc")}`;
    const composed = await call("POST", "/login", { body: { userId: base } });
    const decomposed = await call("POST", "/login", { body: { userId: base.normalize("NFD") } });
    expect(decomposed.status).toBe(200);
    expect(decomposed.json.userId).toBe(base);
    expect(composed.json.userId).toBe(base);
    const rows = await db.select().from(users).where(eq(users.userId, base));
    expect(rows).toHaveLength(1);
    expect(
      await db
        .select()
        .from(users)
        .where(eq(users.userId, base.normalize("NFD"))),
    ).toHaveLength(0);
  });

  test.each([
    ["a zero-width space", "ab\u200bc"],
    ["a zero-width joiner", "ab\u200dc"],
    ["a right-to-left override", "\u202eresu"],
    ["a left-to-right isolate", "a\u2066b"],
    ["a byte order mark", "\ufeffplayer"],
    ["a soft hyphen", "pla\u00adyer"],
    ["a leading space", " player"],
    ["a trailing space", "player "],
    ["a trailing no-break space", "player\u00a0"],
    ["a leading ideographic space", "\u3000player"],
  ])("%s is a 422 naming userId", async (_, userId) => {
    const response = await call("POST", "/login", { body: { userId } });
    expect(response.status).toBe(422);
    expect(response.json.error.details.field).toBe("userId");
  });

  test("inner spaces and non-Latin letters are fine", async () => {
    for (const userId of [`Jean Luc ${uniqueUser()}`, `игрок_${uniqueUser()}`, `玩家_${uniqueUser()}`]) {
      expect((await call("POST", "/login", { body: { userId } })).json.userId).toBe(userId);
    }
  });
});
