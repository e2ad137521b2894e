/** POST /af/postback: push-token auth, record validation, replays of stored purchase keys, the burst, start-up checks. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "bun";
import { rawQuery } from "../src/db/client";
import { call, pool, type ServerProcess, startServer } from "./helpers";

const TOKEN = process.env.AF_PUSH_TOKEN!;
let counter = 0;
/** An appsflyer_id no other test uses (the in-memory database is shared by every test file). */
const afId = (prefix = "af") => `${prefix}-${process.pid}-${Date.now().toString(36)}-${++counter}`;

function purchase(overrides: Record<string, unknown> = {}) {
  return {
    appsflyer_id: afId(),
    event_name: "af_purchase",
    event_time: "2030-01-10 12:00:00.123",
    event_revenue_usd: "4.99",
    campaign: "Winter Sale",
    media_source: "googleadwords_int",
    event_value: JSON.stringify({ af_revenue: "4.99", af_currency: "USD", af_receipt_id: "GPA.1111-2222" }),
    platform: "android",
    country_code: "DE",
    ...overrides,
  };
}

const post = (body: unknown, headers: Record<string, string> = { authorization: TOKEN }) =>
  call("POST", "/af/postback", { body, headers });

async function storedRows(appsflyerId: string) {
  return rawQuery<{
    id: string;
    event_name: string;
    event_time: string;
    revenue: string | null;
    campaign: string | null;
    media_source: string | null;
    receipt_id: string | null;
    record: unknown;
  }>(
    `select id::text, event_name, to_char(event_time at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS.MS') as event_time, event_revenue_usd::text as revenue,
       campaign, media_source, receipt_id, record from af_postbacks where appsflyer_id = $1 order by id`,
    [appsflyerId],
  );
}

describe("storing records", () => {
  test("a purchase is stored with its fields, receipt id and the whole record; 200 without the replay header", async () => {
    const record = purchase();
    const response = await post(record);
    expect(response.status).toBe(200);
    expect(response.json).toEqual({ ok: true, recordId: expect.any(Number) });
    expect(response.headers.get("idempotent-replayed")).toBeNull();
    const [row, ...more] = await storedRows(record.appsflyer_id);
    expect(more).toEqual([]);
    expect(Number(row.id)).toBe(response.json.recordId);
    expect(row).toMatchObject({
      event_name: "af_purchase",
      event_time: "2030-01-10 12:00:00.123",
      revenue: "4.99",
      campaign: "Winter Sale",
      media_source: "googleadwords_int",
      receipt_id: "GPA.1111-2222",
    });
    const stored = typeof row.record === "string" ? JSON.parse(row.record) : row.record;
    expect(stored).toEqual(record);
  });

  test("a retry of the same purchase key answers 200, Idempotent-Replayed: true, the first id, and stores nothing", async () => {
    const record = purchase();
    const first = await post(record);
    // same key: same id, same second (the fraction differs), same name (case differs), same revenue written differently
    const retries = [
      record,
      {
        ...record,
        event_time: "2030-01-10 12:00:00.999",
        event_name: "AF_PURCHASE",
        event_revenue_usd: 4.99,
        extra_field: "new",
      },
      { ...record, event_revenue_usd: "04.990" },
    ];
    for (const retry of retries) {
      const response = await post(retry);
      expect(response.status).toBe(200);
      expect(response.headers.get("idempotent-replayed")).toBe("true");
      expect(response.json.recordId).toBe(first.json.recordId);
    }
    expect(await storedRows(record.appsflyer_id)).toHaveLength(1);
  });

  test("another revenue, second or event name is another purchase", async () => {
    const record = purchase();
    const variants = [
      record,
      { ...record, event_revenue_usd: "9.99" },
      { ...record, event_time: "2030-01-10 12:00:01.123" },
      { ...record, event_name: "purchase" },
    ];
    const ids = new Set<number>();
    for (const variant of variants) {
      const response = await post(variant);
      expect(response.status).toBe(200);
      expect(response.headers.get("idempotent-replayed")).toBeNull();
      ids.add(response.json.recordId);
    }
    expect(ids.size).toBe(4);
    expect(await storedRows(record.appsflyer_id)).toHaveLength(4);
  });

  test("installs and other events need no revenue; AppsFlyer's omitted and null fields are fine", async () => {
    const id = afId();
    const install = {
      appsflyer_id: id,
      event_name: "install",
      event_time: "2030-01-09 08:00:00",
      campaign: null,
      media_source: "organic",
    };
    const levelUp = { appsflyer_id: id, event_name: "level_up", event_time: "2030-01-09 09:00:00.5", event_value: "" };
    for (const record of [install, levelUp]) expect((await post(record)).status).toBe(200);
    const rows = await storedRows(id);
    expect(rows.map((r) => [r.event_name, r.revenue, r.campaign, r.receipt_id])).toEqual([
      ["install", null, null, null],
      ["level_up", null, null, null],
    ]);
  });

  test("the receipt id comes from af_receipt_id, else receipt_id, else af_order_id", async () => {
    const cases: [Record<string, unknown>, string | null][] = [
      [{ receipt_id: "R-2", af_order_id: "O-3" }, "R-2"],
      [{ af_order_id: "O-3" }, "O-3"],
      [{ af_order_id: 12345 }, "12345"],
      [{ af_revenue: "1" }, null],
    ];
    for (const [value, expected] of cases) {
      const record = purchase({ event_value: JSON.stringify(value) });
      expect((await post(record)).status).toBe(200);
      expect((await storedRows(record.appsflyer_id))[0].receipt_id).toBe(expected);
    }
  });

  test("the table is append-only", async () => {
    const record = purchase();
    await post(record);
    await expect(
      rawQuery("update af_postbacks set campaign = 'X' where appsflyer_id = $1", [record.appsflyer_id]),
    ).rejects.toThrow(/append-only/);
    await expect(rawQuery("delete from af_postbacks where appsflyer_id = $1", [record.appsflyer_id])).rejects.toThrow(
      /append-only/,
    );
  });
});

describe("authentication (AF_PUSH_TOKEN in Authorization)", () => {
  test("a missing or wrong token is a 401 and stores nothing, checked before the record is validated", async () => {
    const record = purchase();
    const wrongSameLength = TOKEN.slice(0, -1) + (TOKEN.endsWith("x") ? "y" : "x");
    for (const headers of [
      {},
      { authorization: "" },
      { authorization: wrongSameLength },
      { authorization: `${TOKEN}x` },
      { authorization: `Basic ${TOKEN}` },
      { "x-af-token": TOKEN },
    ] as Record<string, string>[]) {
      const response = await post(record, headers);
      expect(response.status).toBe(401);
      expect(response.json.error.code).toBe("unauthorized");
      expect(response.headers.get("x-request-id")).toBeTruthy();
    }
    expect((await post({ appsflyer_id: 5 }, {})).status).toBe(401);
    expect(await storedRows(record.appsflyer_id)).toHaveLength(0);
  });

  test("the token as is, or as a Bearer token", async () => {
    expect((await post(purchase(), { authorization: TOKEN })).status).toBe(200);
    expect((await post(purchase(), { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
  });
});

describe("malformed records: 422 naming the field, nothing stored", () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ["appsflyer_id missing", { appsflyer_id: undefined }, "appsflyer_id"],
    ["appsflyer_id a number", { appsflyer_id: 12345 }, "appsflyer_id"],
    ["appsflyer_id with a line break", { appsflyer_id: "a\nb" }, "appsflyer_id"],
    ["event_name missing", { event_name: undefined }, "event_name"],
    ["event_time ISO instead of AppsFlyer's format", { event_time: "2030-01-10T12:00:00Z" }, "event_time"],
    ["event_time not a real date", { event_time: "2030-02-30 12:00:00.000" }, "event_time"],
    ["event_time hour 24", { event_time: "2030-01-10 24:00:00.000" }, "event_time"],
    ["revenue with a decimal comma", { event_revenue_usd: "4,99" }, "event_revenue_usd"],
    ["revenue with a currency sign", { event_revenue_usd: "$4.99" }, "event_revenue_usd"],
    ["revenue as an exponent", { event_revenue_usd: 1e21 }, "event_revenue_usd"],
    ["revenue a boolean", { event_revenue_usd: true }, "event_revenue_usd"],
    ["revenue missing on af_purchase", { event_revenue_usd: undefined }, "event_revenue_usd"],
    ["event_value not JSON", { event_value: "{af_receipt_id:" }, "event_value"],
    ["event_value an object instead of JSON text", { event_value: { af_receipt_id: "r" } }, "event_value"],
    [
      "a receipt id with a control character",
      { event_value: JSON.stringify({ af_receipt_id: "r\u0001" }) },
      "event_value.af_receipt_id",
    ],
    ["campaign a number", { campaign: 7 }, "campaign"],
    ["NUL in an extra field", { device: { model: "x\u0000y" } }, "device.model"],
    ["an unpaired surrogate in an extra field", { city: "M\ud800nchen" }, "city"],
  ];
  for (const [name, overrides, field] of cases) {
    test(name, async () => {
      const record = purchase(overrides);
      const response = await post(record);
      expect(response.status).toBe(422);
      expect(response.json.error.code).toBe("validation_error");
      expect(response.json.error.details.field).toBe(field);
      if (typeof record.appsflyer_id === "string") expect(await storedRows(record.appsflyer_id)).toHaveLength(0);
    });
  }

  test("nesting deeper than 32 levels", async () => {
    let deep: unknown = "leaf";
    for (let i = 0; i < 40; i++) deep = { d: deep };
    const response = await post(purchase({ deep }));
    expect(response.status).toBe(422);
    expect(response.json.error.details.field).toStartWith("deep.d.d");
  });

  test("a body over 64 KiB is a 413, malformed JSON a 400, both in the common error shape", async () => {
    const big = await post(purchase({ padding: "x".repeat(70_000) }));
    expect(big.status).toBe(413);
    expect(big.json.error.code).toBe("payload_too_large");
    const malformed = await call("POST", "/af/postback", {
      raw: "{not json",
      headers: { authorization: TOKEN, "content-type": "application/json" },
    });
    expect(malformed.status).toBe(400);
    expect(malformed.json.error.details.field).toBe("body");
  });
});

test("a burst of 5,000 records, 64 in flight, is stored without loss; 500 retries in the same burst store nothing", async () => {
  const prefix = afId("burst");
  const records = Array.from({ length: 5000 }, (_, i) =>
    purchase({
      appsflyer_id: `${prefix}-${i % 1000}`,
      event_time: `2032-03-0${1 + (i % 5)} 10:${String(Math.floor(i / 1000)).padStart(2, "0")}:00.000`,
      event_revenue_usd: "0.99",
    }),
  );
  const retries = records.slice(0, 500);
  const responses = await pool(
    [...records, ...retries].map((record) => () => post(record)),
    64,
  );
  expect(responses.filter((r) => r.status !== 200)).toEqual([]);
  const fresh = responses.filter((r) => r.headers.get("idempotent-replayed") === null);
  expect(fresh).toHaveLength(5000);
  expect(new Set(fresh.map((r) => r.json.recordId)).size).toBe(5000);
  const [{ rows }] = await rawQuery<{ rows: string | number }>(
    "select count(*) as rows from af_postbacks where appsflyer_id like $1",
    [`${prefix}-%`],
  );
  expect(Number(rows)).toBe(5000);
}, 300_000);

describe("OpenAPI", () => {
  test("/af/postback is described with its security, its replay header and every error", async () => {
    const spec = (await call("GET", "/docs/json")).json;
    const operation = spec.paths["/af/postback"].post;
    expect(operation.security).toEqual([{ afPushToken: [] }]);
    expect(spec.components.securitySchemes.afPushToken).toMatchObject({
      type: "apiKey",
      in: "header",
      name: "authorization",
    });
    expect(Object.keys(operation.responses).sort()).toEqual(["200", "400", "401", "413", "422", "503"]);
    expect(operation.responses["200"].headers["Idempotent-Replayed"]).toBeDefined();
    expect(operation.responses["503"].description).toContain("postback_disabled");
    expect(Object.keys(operation.requestBody.content["application/json"].schema.properties)).toEqual(
      expect.arrayContaining([
        "appsflyer_id",
        "event_name",
        "event_time",
        "event_revenue_usd",
        "campaign",
        "media_source",
        "event_value",
      ]),
    );
  });
});

describe("configuration (servers of their own)", () => {
  let disabled: ServerProcess;
  let customHeader: ServerProcess;
  beforeAll(async () => {
    // PGlite's migrations alone took 20 s on the shared 2-core machine: a start-up gets 120 s
    disabled = await startServer({ AF_PUSH_TOKEN: "" }, 120_000);
    customHeader = await startServer({ AF_PUSH_TOKEN: TOKEN, AF_PUSH_TOKEN_HEADER: "X-AF-Token" }, 120_000);
  }, 300_000);
  afterAll(() => {
    disabled?.process.kill();
    customHeader?.process.kill();
  });

  const send = (url: string, body: unknown, headers: Record<string, string>) =>
    fetch(`${url}/af/postback`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    });

  test("AF_PUSH_TOKEN unset: 503 postback_disabled whatever is sent, nothing stored", async () => {
    const record = purchase();
    for (const headers of [{ authorization: TOKEN }, {}] as Record<string, string>[]) {
      const response = await send(disabled.url, record, headers);
      expect(response.status).toBe(503);
      expect(((await response.json()) as any).error.code).toBe("postback_disabled");
    }
    // the server shares this process's database when DATABASE_URL is PostgreSQL
    expect(await storedRows(record.appsflyer_id)).toHaveLength(0);
  });

  test("AF_PUSH_TOKEN_HEADER=X-AF-Token: the token is read there, not from Authorization", async () => {
    expect((await send(customHeader.url, purchase(), { "x-af-token": TOKEN })).status).toBe(200);
    expect((await send(customHeader.url, purchase(), { authorization: TOKEN })).status).toBe(401);
    expect((await send(customHeader.url, purchase(), { "x-af-token": `Bearer ${TOKEN}` })).status).toBe(401);
  });
});

describe("start-up refuses", () => {
  const startUp = (env: Record<string, string>) => {
    const result = spawnSync({
      cmd: [process.execPath, "src/index.ts"],
      env: { ...process.env, PORT: "0", ...env },
      timeout: 30_000,
    });
    return { exitCode: result.exitCode, output: result.stdout.toString() + result.stderr.toString() };
  };
  test("a push token under 32 characters in production", () => {
    const result = startUp({
      NODE_ENV: "production",
      JWT_SECRET: "s".repeat(40),
      ADMIN_TOKEN: "a".repeat(40),
      AF_PUSH_TOKEN: "short-token",
    });
    expect(result.exitCode).toBe(1);
    expect(result.output).toContain("AF_PUSH_TOKEN must be at least 32 characters when NODE_ENV=production");
  });
  test("a header name that is neither Authorization nor X-...", () => {
    const result = startUp({ AF_PUSH_TOKEN_HEADER: "Cookie" });
    expect(result.exitCode).toBe(1);
    expect(result.output).toContain("AF_PUSH_TOKEN_HEADER must be Authorization or a header name starting with X-");
  });
});
