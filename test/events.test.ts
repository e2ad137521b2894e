import { describe, expect, test } from "bun:test";
import { rawQuery } from "../src/db/client";
import { call, login, uniqueUser } from "./helpers";

describe("POST /event", () => {
  test("stores an event as UTC and lists it back byte for byte", async () => {
    const { token } = await login();
    const meta = '{"level": 42, "name": "Ünïcødé <b>&</b> \'q\'"}';
    const created = await call("POST", "/event", {
      token,
      body: { eventType: "level_complete", meta, timestampUtc: "2025-10-25T12:30:00+02:00" },
    });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ ok: true });
    const listed = await call("GET", "/events", { token });
    expect(listed.json.events).toEqual([
      { eventId: created.json.eventId, eventType: "level_complete", tsUtc: "2025-10-25T10:30:00.000Z", meta },
    ]);
  });

  test("defaults the timestamp to now", async () => {
    const { token } = await login();
    await call("POST", "/event", { token, body: { eventType: "open" } });
    const [event] = (await call("GET", "/events", { token })).json.events;
    expect(Math.abs(Date.parse(event.tsUtc) - Date.now())).toBeLessThan(10_000);
  });

  test.each([
    ["missing eventType", { meta: "x" }, "eventType"],
    ["empty eventType", { eventType: "" }, "eventType"],
    ["eventType too long", { eventType: "e".repeat(65) }, "eventType"],
    ["eventType bad characters", { eventType: "level complete!" }, "eventType"],
    ["eventType wrong type", { eventType: 1 }, "eventType"],
    ["meta too long", { eventType: "x", meta: "m".repeat(5001) }, "meta"],
    ["meta wrong type", { eventType: "x", meta: { a: 1 } }, "meta"],
    ["timestamp without zone", { eventType: "x", timestampUtc: "2025-10-25T10:30:00" }, "timestampUtc"],
    ["timestamp not ISO", { eventType: "x", timestampUtc: "25/10/2025" }, "timestampUtc"],
    ["February 30th", { eventType: "x", timestampUtc: "2025-02-30T00:00:00Z" }, "timestampUtc"],
    ["hour 24", { eventType: "x", timestampUtc: "2025-02-03T24:00:00Z" }, "timestampUtc"],
    ["month 13", { eventType: "x", timestampUtc: "2025-13-01T00:00:00Z" }, "timestampUtc"],
  ])("%s -> 422 naming the field", async (_, body, field) => {
    const { token } = await login();
    const response = await call("POST", "/event", { token, body });
    expect(response.status).toBe(422);
    expect(response.json.error.code).toBe("validation_error");
    expect(response.json.error.details.field).toBe(field);
    expect((await call("GET", "/events", { token })).json.events).toEqual([]);
  });

  test("accepts 64-char eventType, 5000-char meta and a leap day", async () => {
    const { token } = await login();
    const response = await call("POST", "/event", {
      token,
      body: { eventType: "e".repeat(64), meta: "m".repeat(5000), timestampUtc: "2024-02-29T23:59:59.123Z" },
    });
    expect(response.status).toBe(201);
  });

  test("Idempotency-Key: replay returns the first eventId, a different body is a 422", async () => {
    const { token } = await login();
    const headers = { "idempotency-key": "evt-1" };
    const body = { eventType: "purchase_view", meta: "a" };
    const first = await call("POST", "/event", { token, headers, body });
    const replay = await call("POST", "/event", { token, headers, body });
    expect(replay.status).toBe(201);
    expect(replay.json.eventId).toBe(first.json.eventId);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect((await call("POST", "/event", { token, headers, body: { ...body, meta: "b" } })).status).toBe(422);
    const concurrent = await Promise.all(
      Array.from({ length: 10 }, () =>
        call("POST", "/event", { token, headers: { "idempotency-key": "evt-2" }, body }),
      ),
    );
    expect(new Set(concurrent.map((r) => r.json.eventId)).size).toBe(1);
    expect((await call("GET", "/events", { token })).json.events).toHaveLength(2);
  });
});

describe("GET /events", () => {
  test("newest first, filters and keyset pages", async () => {
    const { token } = await login();
    for (let day = 1; day <= 5; day++) {
      await call("POST", "/event", {
        token,
        body: { eventType: day % 2 ? "odd" : "even", timestampUtc: `2025-01-0${day}T00:00:00Z` },
      });
    }
    const all = await call("GET", "/events", { token });
    expect(all.json.events.map((e: { tsUtc: string }) => e.tsUtc.slice(0, 10))).toEqual([
      "2025-01-05",
      "2025-01-04",
      "2025-01-03",
      "2025-01-02",
      "2025-01-01",
    ]);
    const odd = await call("GET", "/events?eventType=odd", { token });
    expect(odd.json.events).toHaveLength(3);
    const window = await call("GET", "/events?from=2025-01-02T00:00:00Z&to=2025-01-04T00:00:00Z", { token });
    expect(window.json.events).toHaveLength(3);
    const page1 = await call("GET", "/events?limit=2", { token });
    const page2 = await call("GET", `/events?limit=2&cursor=${page1.json.nextCursor}`, { token });
    const page3 = await call("GET", `/events?limit=2&cursor=${page2.json.nextCursor}`, { token });
    expect(
      [...page1.json.events, ...page2.json.events, ...page3.json.events].map((e: { eventId: number }) => e.eventId),
    ).toEqual(all.json.events.map((e: { eventId: number }) => e.eventId));
    expect(page3.json.nextCursor).toBeNull();
  });

  test("limit 0, 101, bad from and bad cursor -> 422", async () => {
    const { token } = await login();
    for (const query of ["limit=0", "limit=101", "from=yesterday", "from=2025-02-30T00:00:00Z", "cursor=abc"]) {
      expect((await call("GET", `/events?${query}`, { token })).status).toBe(422);
    }
  });

  test("a user never sees another user's events", async () => {
    const a = await login();
    const b = await login();
    await call("POST", "/event", { token: a.token, body: { eventType: "secret" } });
    expect((await call("GET", "/events", { token: b.token })).json.events).toEqual([]);
  });
});

describe("GET /stats", () => {
  test("user scope with a token, global without, 401 with a bad token", async () => {
    const { token } = await login();
    await call("POST", "/event", { token, body: { eventType: "a" } });
    await call("POST", "/event", { token, body: { eventType: "a" } });
    await call("POST", "/event", { token, body: { eventType: "b" } });
    const mine = await call("GET", "/stats", { token });
    expect(mine.json).toEqual({
      scope: "user",
      totalEvents: 3,
      byType: [
        { eventType: "a", count: 2 },
        { eventType: "b", count: 1 },
      ],
      deeplinks: 0,
    });
    const global = await call("GET", "/stats");
    expect(global.json.scope).toBe("global");
    expect(global.json.totalEvents).toBeGreaterThanOrEqual(3);
    expect(global.json.users).toBeGreaterThanOrEqual(1);
    expect((await call("GET", "/stats", { token: "garbage" })).status).toBe(401);
    expect((await call("GET", "/stats", { token: `${token}x` })).status).toBe(401);
  });

  test("from/to filters", async () => {
    const { token } = await login();
    await call("POST", "/event", { token, body: { eventType: "old", timestampUtc: "2020-01-01T00:00:00Z" } });
    await call("POST", "/event", { token, body: { eventType: "new", timestampUtc: "2024-01-01T00:00:00Z" } });
    const response = await call("GET", "/stats?from=2023-01-01T00:00:00Z", { token });
    expect(response.json.byType).toEqual([{ eventType: "new", count: 1 }]);
    expect((await call("GET", "/stats?to=nope")).status).toBe(422);
  });
});

describe("GET /track", () => {
  test("records a deeplink_open under af_id, visible in that user's /events and /stats", async () => {
    const { userId, token } = await login(uniqueUser("af"));
    const response = await call(
      "GET",
      `/track?campaign=SPRING&character=knight&source=tiktok&af_id=${encodeURIComponent(userId)}`,
    );
    expect(response.status).toBe(200);
    expect(response.json).toMatchObject({ ok: true });
    const [event] = (await call("GET", "/events", { token })).json.events;
    expect(event).toMatchObject({ eventId: response.json.trackedId, eventType: "deeplink_open" });
    expect(JSON.parse(event.meta)).toEqual({ campaign: "SPRING", character: "knight", source: "tiktok" });
    expect((await call("GET", "/stats", { token })).json.deeplinks).toBe(1);
  });

  test("without af_id it is anonymous, and it never redirects", async () => {
    const response = await call("GET", "/track?campaign=X&source=https://evil.example");
    expect(response.status).toBe(200);
    expect(response.headers.get("location")).toBeNull();
  });

  test.each([
    ["missing campaign", "source=x", "campaign"],
    ["campaign too long", `campaign=${"c".repeat(101)}`, "campaign"],
    ["control character", "campaign=a%0Ab", "campaign"],
    ["af_id too long", `campaign=x&af_id=${"a".repeat(101)}`, "af_id"],
  ])("%s -> 422 naming the field", async (_, query, field) => {
    const response = await call("GET", `/track?${query}`);
    expect(response.status).toBe(422);
    expect(response.json.error.details.field).toBe(field);
  });
});

describe("dates outside years 1-9999 after the offset (hardening finding 2)", () => {
  test.each([
    ["year 0", "0000-01-01T00:00:00Z"],
    ["year 1 moved into year 0 by its offset", "0001-01-01T00:00:00+01:00"],
    ["year 9999 moved into year 10000 by its offset", "9999-12-31T23:59:59-01:00"],
  ])("POST /event with %s -> 422 naming timestampUtc", async (_, timestampUtc) => {
    const { token } = await login();
    const response = await call("POST", "/event", { token, body: { eventType: "x", timestampUtc } });
    expect(response.status).toBe(422);
    expect(response.json.error.details.field).toBe("timestampUtc");
  });

  test("the first and last instants of years 1-9999 are stored and listed back", async () => {
    const { token } = await login();
    for (const timestampUtc of ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999Z", "0001-01-01T01:00:00+01:00"]) {
      expect((await call("POST", "/event", { token, body: { eventType: "edge", timestampUtc } })).status).toBe(201);
    }
    const listed = (await call("GET", "/events", { token })).json.events.map((e: { tsUtc: string }) => e.tsUtc);
    expect(listed).toEqual(["9999-12-31T23:59:59.999Z", "0001-01-01T00:00:00.000Z", "0001-01-01T00:00:00.000Z"]);
  });

  test.each([
    ["GET /stats anonymously, from in year 0", "/stats?from=0000-01-01T00:00:00Z", false, "from"],
    ["GET /stats, to past year 9999", "/stats?to=9999-12-31T23:59:59-01:00", true, "to"],
    ["GET /events, to past year 9999", "/events?to=9999-12-31T23:59:59-01:00", true, "to"],
    ["GET /events, from in year 0", "/events?from=0000-12-31T23:59:59Z", true, "from"],
    ["GET /events, a cursor with a huge millisecond value", "/events?cursor=999999999999999.1", true, "cursor"],
    ["GET /events, a cursor before year 1", "/events?cursor=0.1&from=2025-01-01T00:00:00Z", true, ""],
    ["GET /events, a cursor id past 2^53", "/events?cursor=1.999999999999999999", true, "cursor"],
  ])("%s -> 422 naming the field", async (_, path, withToken, field) => {
    const { token } = await login();
    const response = await call("GET", path, { token: withToken ? token : undefined });
    if (field === "") {
      expect(response.status).toBe(200); // epoch 0 is year 1970: a valid cursor
      return;
    }
    expect(response.status).toBe(422);
    expect(response.json.error.code).toBe("validation_error");
    expect(response.json.error.details.field).toBe(field);
  });
});

describe("a deleted user's token (hardening finding 6)", () => {
  test("is a 401 on /event, /events and /stats, like /balance", async () => {
    const { userId, token } = await login();
    expect((await call("POST", "/event", { token, body: { eventType: "before" } })).status).toBe(201);
    await rawQuery("delete from users where user_id = $1", [userId]);
    for (const [method, path, body] of [
      ["POST", "/event", { eventType: "after" }],
      ["GET", "/events"],
      ["GET", "/stats"],
      ["GET", "/stats?from=2020-01-01T00:00:00Z"],
      ["GET", "/balance"],
    ] as const) {
      const response = await call(method, path, { token, body });
      expect({ path, status: response.status, code: response.json?.error?.code }).toEqual({
        path,
        status: 401,
        code: "unauthorized",
      });
    }
    const keyed = await call("POST", "/event", {
      token,
      body: { eventType: "after" },
      headers: { "idempotency-key": "k-gone" },
    });
    expect(keyed.status).toBe(401);
    const [{ n }] = await rawQuery<{ n: number }>(
      "select count(*)::int as n from events where user_id = $1 and event_type = 'after'",
      [userId],
    );
    expect(n).toBe(0);
  });

  test("a user with no events still gets an empty page and zero counts (not a 401)", async () => {
    const { token } = await login();
    expect((await call("GET", "/events", { token })).json).toEqual({ events: [], nextCursor: null });
    expect((await call("GET", "/stats", { token })).json).toEqual({
      scope: "user",
      totalEvents: 0,
      byType: [],
      deeplinks: 0,
    });
  });
});

describe("/track af_id is a userId (hardening finding 6)", () => {
  test("an NFD af_id lands on the NFC user; a zero-width one is a 422 naming af_id", async () => {
    const nfc = `caf\u00e9_${uniqueUser("af")}`;
    const { token } = await login(nfc);
    expect((await call("GET", `/track?campaign=C&af_id=${encodeURIComponent(nfc.normalize("NFD"))}`)).status).toBe(200);
    expect((await call("GET", "/events", { token })).json.events).toHaveLength(1);
    const refused = await call("GET", `/track?campaign=C&af_id=${encodeURIComponent("a\u200bb")}`);
    expect(refused.status).toBe(422);
    expect(refused.json.error.details.field).toBe("af_id");
  });
});
