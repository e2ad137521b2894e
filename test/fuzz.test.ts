/**
 * Property-based fuzzing of every route with fast-check: whatever arrives, the answer is a 2xx of the
 * documented shape or a 4xx with the JSON error shape, never a 5xx, and stored text comes back byte for byte.
 * Fixed seed and bounded runs here; `npm run test:fuzz` sets FUZZ_RUNS high for a longer local run.
 */
import { beforeAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { call, login, uniqueUser } from "./helpers";

const RUNS = Number(process.env.FUZZ_RUNS ?? 60);
const SEED = Number(process.env.FUZZ_SEED ?? 20261125);
const settings = { numRuns: RUNS, seed: SEED, endOnFailure: true };

let token: string;
beforeAll(async () => {
  ({ token } = await login(uniqueUser("fuzz")));
});

/** A response is either a success or the common error shape with a 4xx: never a 5xx. */
function expectWellFormed(response: Awaited<ReturnType<typeof call>>) {
  expect(response.status).toBeLessThan(500);
  expect(response.headers.get("x-request-id")).toBeTruthy();
  if (response.status >= 400) {
    expect(response.json?.error?.code).toEqual(expect.any(String));
    expect(response.json.error.requestId).toBe(response.headers.get("x-request-id")!);
  }
}

const hostile = fc.oneof(
  fc.string({ unit: "binary", maxLength: 300 }),
  fc.constantFrom(
    "'; drop table users; --",
    "<script>alert(1)</script>",
    "\u0000",
    "\ud800",
    "%00",
    "../../etc/passwd",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a log4shell probe, sent as the literal text
    "${jndi:ldap://x}",
    "\r\nX-Injected: 1",
    "١٢٣",
    "NaN",
    "-0",
    "1e309",
  ),
  fc.string({ unit: "grapheme", maxLength: 80 }),
);
const jsonish = fc.oneof(
  fc.anything({ maxDepth: 3, withNullPrototype: false }),
  fc.jsonValue({ maxDepth: 3 }),
  hostile,
  fc.double(),
  fc.bigInt().map(String),
  fc.integer(),
);
const bodyOf = (fields: string[]) =>
  fc.oneof(fc.dictionary(fc.constantFrom(...fields), jsonish, { maxKeys: fields.length + 1 }), jsonish);

const routes: { method: string; path: string; fields: string[]; auth: boolean; valid: Record<string, unknown> }[] = [
  { method: "POST", path: "/login", fields: ["userId"], auth: false, valid: { userId: "fuzz_player" } },
  { method: "POST", path: "/earn", fields: ["amount", "reason"], auth: true, valid: { amount: 5, reason: "r" } },
  { method: "POST", path: "/spend", fields: ["amount", "reason"], auth: true, valid: { amount: 1, reason: "r" } },
  {
    method: "POST",
    path: "/event",
    fields: ["eventType", "meta", "timestampUtc"],
    auth: true,
    valid: { eventType: "fuzz", meta: "m", timestampUtc: "2025-01-01T00:00:00Z" },
  },
];

/** A valid body with one field replaced: reaches the service and the database, not just the validator. */
const nearlyValid = (route: (typeof routes)[number]) =>
  fc
    .tuple(fc.constantFrom(...route.fields), fc.oneof(hostile, jsonish))
    .map(([field, value]) => ({ ...route.valid, [field]: value }));

describe("fuzz: JSON bodies", () => {
  for (const route of routes) {
    test(`${route.method} ${route.path}: random shapes, types, sizes and strings never give a 5xx`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.oneof(bodyOf(route.fields), nearlyValid(route)), async (body) => {
          let raw: string;
          try {
            raw = JSON.stringify(body) ?? "null";
          } catch {
            raw = String(body);
          }
          expectWellFormed(
            await call(route.method, route.path, {
              raw,
              token: route.auth ? token : undefined,
              headers: { "content-type": "application/json" },
            }),
          );
        }),
        settings,
      );
    });
  }

  test("raw bytes, duplicated keys, wrong content types and huge numbers never give a 5xx", async () => {
    const rawBody = fc.oneof(
      fc.string({ unit: "binary", maxLength: 500 }),
      fc.constantFrom(
        '{"amount": 5, "amount": "5"}',
        '{"amount": 1e400}',
        '{"amount": 99999999999999999999999}',
        '{"amount": -0}',
        '{"amount": 5}garbage',
        '\ufeff{"amount": 5}',
        '{"__proto__": {"amount": 5}}',
        '{"amount": 5, "reason": "\\u0000"}',
      ),
    );
    const contentType = fc.constantFrom(
      "application/json",
      "text/plain",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
      "application/json; charset=latin1",
      "",
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), rawBody, contentType, async (route, raw, type) => {
        const headers: Record<string, string> = type ? { "content-type": type } : {};
        expectWellFormed(await call(route.method, route.path, { raw, token: route.auth ? token : undefined, headers }));
      }),
      settings,
    );
  });
});

describe("fuzz: query strings, headers and tokens", () => {
  test("GET routes with random query parameters never give a 5xx", async () => {
    const paths = ["/events", "/wallet/ledger", "/stats", "/track", "/balance", "/health"];
    const params = fc.dictionary(
      fc.constantFrom("limit", "cursor", "from", "to", "eventType", "campaign", "character", "source", "af_id", "x"),
      hostile,
      { maxKeys: 5 },
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...paths), params, fc.boolean(), async (path, query, withToken) => {
        const search = new URLSearchParams(
          Object.entries(query).map(([k, v]): [string, string] => [k, v.replace(/[\ud800-\udfff]/g, "")]),
        ).toString();
        expectWellFormed(await call("GET", `${path}?${search}`, { token: withToken ? token : undefined }));
      }),
      settings,
    );
  });

  test("random Authorization, X-Request-ID and Idempotency-Key headers never give a 5xx or echo an unsafe id", async () => {
    const headerValue = fc.string({
      unit: fc.integer({ min: 0x20, max: 0xff }).map((c) => String.fromCharCode(c)),
      maxLength: 300,
    });
    await fc.assert(
      fc.asyncProperty(headerValue, headerValue, headerValue, async (authorization, requestId, key) => {
        const response = await call("POST", "/earn", {
          body: { amount: 1 },
          headers: { authorization: `Bearer ${token}`, "x-request-id": requestId, "idempotency-key": key },
        });
        expectWellFormed(response);
        expect(response.headers.get("x-request-id")).toMatch(/^[A-Za-z0-9._-]{1,128}$/);
        expectWellFormed(await call("GET", "/balance", { headers: { authorization } }));
      }),
      settings,
    );
  });
});

describe("fuzz: what is stored comes back byte for byte", () => {
  test("POST /event meta and eventType round-trip through GET /events", async () => {
    const { token: own } = await login(uniqueUser("roundtrip"));
    const meta = fc.string({ unit: "grapheme", maxLength: 400 }).filter((s) => !s.includes("\u0000"));
    const eventType = fc.stringMatching(/^[A-Za-z0-9_.-]{1,64}$/);
    await fc.assert(
      fc.asyncProperty(eventType, meta, async (type, text) => {
        const created = await call("POST", "/event", { token: own, body: { eventType: type, meta: text } });
        expect(created.status).toBe(201);
        const listed = await call("GET", `/events?eventType=${encodeURIComponent(type)}&limit=1`, { token: own });
        expect(listed.json.events[0]).toMatchObject({ eventId: created.json.eventId, eventType: type, meta: text });
      }),
      { ...settings, numRuns: Math.min(RUNS, 40) },
    );
  });

  test("POST /login userId and POST /earn reason round-trip", async () => {
    // format characters and surrounding white space are refused (their own property below); the answer is the NFC form
    const userId = fc
      .string({ unit: "grapheme", minLength: 1, maxLength: 60 })
      .filter(
        (s) =>
          !/[<>&"'\u0000-\u001f\u007f-\u009f]/.test(s) &&
          !/\p{Cf}|^\s|\s$/u.test(s) &&
          s.normalize("NFC").length <= 255,
      );
    await fc.assert(
      fc.asyncProperty(
        userId,
        fc.string({ unit: "grapheme", maxLength: 50 }).filter((s) => !s.includes("\u0000")),
        async (id, reason) => {
          const logged = await call("POST", "/login", { body: { userId: id } });
          expect(logged.status).toBe(200);
          expect(logged.json.userId).toBe(id.normalize("NFC"));
          const earned = await call("POST", "/earn", { token: logged.json.token, body: { amount: 1, reason } });
          expect(earned.status).toBe(200);
          const ledger = await call("GET", "/wallet/ledger?limit=1", { token: logged.json.token });
          expect(ledger.json.entries[0].reason).toBe(reason);
          expect((await call("GET", "/balance", { token: logged.json.token })).json.userId).toBe(id.normalize("NFC"));
        },
      ),
      { ...settings, numRuns: Math.min(RUNS, 40) },
    );
  });
});

describe("fuzz: hardening review cases", () => {
  const BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

  test("any other spelling of a valid token is a 401: appended, replaced, inserted or removed characters", async () => {
    const appended = fc
      .string({ unit: fc.constantFrom(...`${BASE64URL}=!$.~ %+/`), minLength: 1, maxLength: 40 })
      .map((tail) => (t: string) => t + tail);
    const replaced = fc.tuple(fc.nat(), fc.constantFrom(...`${BASE64URL}=!.+/`)).map(
      ([at, c]) =>
        (t: string) =>
          t.slice(0, at % t.length) + c + t.slice((at % t.length) + 1),
    );
    const inserted = fc.tuple(fc.nat(), fc.constantFrom(...`${BASE64URL}=!.`)).map(
      ([at, c]) =>
        (t: string) =>
          t.slice(0, at % t.length) + c + t.slice(at % t.length),
    );
    const removed = fc.nat().map((at) => (t: string) => t.slice(0, at % t.length) + t.slice((at % t.length) + 1));
    await fc.assert(
      fc.asyncProperty(fc.oneof(appended, replaced, inserted, removed), async (mutate) => {
        const variant = mutate(token);
        fc.pre(variant !== token);
        const response = await call("GET", "/balance", { token: variant });
        expectWellFormed(response);
        expect(response.status).toBe(401);
      }),
      settings,
    );
  });

  const offset = fc.oneof(
    fc.constant("Z"),
    fc
      .tuple(fc.constantFrom("+", "-"), fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }))
      .map(([sign, h, m]) => `${sign}${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}`),
  );
  const year = fc.oneof(fc.constantFrom(0, 1, 9999), fc.integer({ min: 0, max: 9999 }));
  const timestamp = fc
    .tuple(
      year,
      fc.integer({ min: 1, max: 12 }),
      fc.integer({ min: 1, max: 31 }),
      fc.integer({ min: 0, max: 23 }),
      fc.integer({ min: 0, max: 59 }),
      offset,
    )
    .map(
      ([y, mo, d, h, mi, off]) =>
        `${String(y).padStart(4, "0")}-${String(mo).padStart(2, "0")}-${String(d).padStart(2, "0")}T${String(h).padStart(2, "0")}:${String(mi).padStart(2, "0")}:00${off}`,
    );

  test("timestamps of years 0000-9999 with any offset: 201/200 or a 422 naming the field, never a 5xx, on every date route", async () => {
    await fc.assert(
      fc.asyncProperty(timestamp, timestamp, async (a, b) => {
        const created = await call("POST", "/event", { token, body: { eventType: "fuzz_date", timestampUtc: a } });
        expectWellFormed(created);
        if (created.status !== 201)
          expect({ status: created.status, field: created.json.error.details?.field }).toEqual({
            status: 422,
            field: "timestampUtc",
          });
        for (const [path, withToken] of [
          [`/events?from=${encodeURIComponent(a)}&to=${encodeURIComponent(b)}`, true],
          [`/stats?from=${encodeURIComponent(a)}&to=${encodeURIComponent(b)}`, false],
          [`/stats?to=${encodeURIComponent(b)}`, true],
        ] as const) {
          const response = await call("GET", path, { token: withToken ? token : undefined });
          expectWellFormed(response);
          if (response.status !== 200) expect(response.status).toBe(422);
        }
      }),
      settings,
    );
  });

  test("events cursors of any digits: 200 or a 422 naming cursor, never a 5xx", async () => {
    const digits = (max: number) => fc.string({ unit: fc.constantFrom(..."0123456789"), minLength: 1, maxLength: max });
    await fc.assert(
      fc.asyncProperty(digits(15), digits(18), async (ms, id) => {
        const response = await call("GET", `/events?cursor=${ms}.${id}`, { token });
        expectWellFormed(response);
        if (response.status !== 200)
          expect({ status: response.status, field: response.json.error.details.field }).toEqual({
            status: 422,
            field: "cursor",
          });
      }),
      settings,
    );
  });

  test("userIds with format characters or surrounding white space are a 422; NFC and NFD spellings are one account", async () => {
    const invisible = fc.constantFrom(
      "\u200b",
      "\u200c",
      "\u200d",
      "\u200e",
      "\u200f",
      "\u202a",
      "\u202e",
      "\u2066",
      "\u2069",
      "\ufeff",
      "\u00ad",
      "\u2060",
      "\u{e0041}",
    );
    const space = fc.constantFrom(" ", "\t", "\u00a0", "\u2003", "\u3000");
    const base = fc.stringMatching(/^[a-z0-9_]{1,20}$/);
    const hostileId = fc.oneof(
      fc
        .tuple(base, invisible, fc.nat())
        .map(([b, c, at]) => b.slice(0, at % (b.length + 1)) + c + b.slice(at % (b.length + 1))),
      fc.tuple(base, space, fc.boolean()).map(([b, s, lead]) => (lead ? s + b : b + s)),
    );
    await fc.assert(
      fc.asyncProperty(hostileId, async (userId) => {
        const response = await call("POST", "/login", { body: { userId } });
        expect({ status: response.status, field: response.json.error?.details?.field }).toEqual({
          status: 422,
          field: "userId",
        });
      }),
      settings,
    );
    const accented = fc.string({
      unit: fc.constantFrom("e\u0301", "\u00e9", "A\u030a", "\u00c5", "\u1e9b\u0323", "n\u0303", "x", "_"),
      minLength: 1,
      maxLength: 12,
    });
    await fc.assert(
      fc.asyncProperty(accented, async (name) => {
        const id = `fz_${name}`;
        const nfc = await call("POST", "/login", { body: { userId: id.normalize("NFC") } });
        const nfd = await call("POST", "/login", { body: { userId: id.normalize("NFD") } });
        expect(nfd.json.userId).toBe(nfc.json.userId);
        expect(nfc.json.userId).toBe(id.normalize("NFC"));
      }),
      { ...settings, numRuns: Math.min(RUNS, 40) },
    );
  });
});
