/**
 * loadPurchases / loadConfirmed / loadCosts / loadSessions: SPEC 4.1 validity. Every row is
 * checked before any filter; a row counts once, under its first bad column in file order.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { strAt } from "../../src/pipeline/columns/bytes.ts";
import { formatDate } from "../../src/pipeline/normalise.ts";
import { cleanup, csv, dataset, PURCHASES_HEADER } from "./helpers.ts";
import { loadConfirmed, loadCosts, loadPurchases, loadSessions } from "./load-local.ts";

afterAll(cleanup);

const pathOf = (files: Parameters<typeof dataset>[0], name: string) => join(dataset(files).data, name);

describe("loadPurchases", () => {
  test("bad values are counted per reason, once per row, before any filter", async () => {
    const path = pathOf(
      {
        "purchases_raw.csv": csv(
          PURCHASES_HEADER,
          "u1,purchase,2025-01-10T10:00:00Z,4.99,A,r1,success", // ok
          "u2,purchase,2025-02-30T10:00:00Z,4.99,A,r2,success", // bad_time
          "u3,purchase,2025-01-10T10:00:00Z,$4.99,A,r3,success", // bad_number
          "u4,purchase,not-a-time,NaN,A,r4,success", // both bad: time comes first in the file -> bad_time only
          "u5,purchase,2025-01-10T10:00:00Z,,A,r5,failed", // empty revenue on a failed row: still bad_number (checked before the filter)
          "u6,refund,2025-01-10T10:00:00Z,,A,r6,chargeback", // empty revenue allowed on a chargeback row
          "u7,refund,2025-01-10T10:00:00Z,1e3,A,r7, Chargeback ", // unparseable (not empty) revenue: bad_number even on a chargeback
        ),
      },
      "purchases_raw.csv",
    );
    const { table, quality, usable } = await loadPurchases(path);
    expect(quality).toMatchObject({ rows: 7, skipped: 5, bad_time: 2, bad_number: 3 });
    expect(quality.firstBad).toEqual({ line: 3, column: "event_time_utc", reason: "bad_time" });
    expect(usable).toBe(2);
    expect([strAt(table.receipt, 0), strAt(table.receipt, 1)]).toEqual(["r1", "r6"]); // the rows of lines 2 and 7 remain
    expect(table.revenue[1]).toBeNaN(); // the chargeback row keeps its receipt, no revenue
    expect(strAt(table.receipt, 1)).toBe("r6");
    expect(Array.from(table.charged)).toEqual([0, 1]); // r6 is charged back (only the chargeback row itself carries it); r7's row was skipped
  });

  test("with revenue before time in the header, a doubly bad row counts as bad_number", async () => {
    const path = pathOf(
      {
        "purchases_raw.csv": csv(
          "revenue_usd,appsflyer_id,event_name,event_time_utc,campaign,receipt_id,status",
          "x,u1,purchase,bad,A,r1,success",
        ),
      },
      "purchases_raw.csv",
    );
    const { quality } = await loadPurchases(path);
    expect(quality).toMatchObject({ rows: 1, skipped: 1, bad_time: 0, bad_number: 1 });
  });

  test("campaigns are trimmed and upper-cased; ids are kept exactly as written", async () => {
    const path = pathOf(
      {
        "purchases_raw.csv": csv(
          PURCHASES_HEADER,
          " u1 ,purchase,2025-01-10T10:00:00Z,1,  summer ,R1,success",
          "u1,purchase,2025-01-10T10:00:00Z,1,SUMMER,r1,success",
        ),
      },
      "purchases_raw.csv",
    );
    const { table } = await loadPurchases(path);
    expect(table.campaign[0]).toBe(table.campaign[1]!);
    expect(table.campaignDict[table.campaign[0]!]).toBe("SUMMER");
    expect([strAt(table.afid, 0), strAt(table.afid, 1)]).toEqual([" u1 ", "u1"]);
    expect([strAt(table.receipt, 0), strAt(table.receipt, 1)]).toEqual(["R1", "r1"]);
  });
});

describe("loadConfirmed / loadCosts", () => {
  test("confirmed: bad time and bad revenue are skipped and counted", async () => {
    const path = pathOf(
      {
        "confirmed_purchases.csv": csv(
          "appsflyer_id,event_time_utc,revenue_usd,receipt_id,campaign",
          "u1,2025-01-10T10:00:00Z,0,r1,x",
          "u2,yesterday,1,r2,x",
          "u3,2025-01-10T10:00:00Z,,r3,x",
        ),
      },
      "confirmed_purchases.csv",
    );
    const { quality, usable } = await loadConfirmed(path);
    expect(quality).toMatchObject({ rows: 3, skipped: 2, bad_time: 1, bad_number: 1 });
    expect(usable).toBe(1); // revenue 0 is parseable: confirmed rows are used as read
  });

  test("costs: date must be YYYY-MM-DD (bad_time), cost must parse (bad_number, comma rule applies)", async () => {
    const path = pathOf(
      {
        "costs_daily.csv": csv(
          "date,campaign,ad_cost_usd",
          '2025-01-09,a,"1.234,50"',
          "2025-01-09T00:00:00Z,a,1",
          "2025-01-09,a,n/a",
          "2025-02-29,a,x",
        ),
      },
      "costs_daily.csv",
    );
    const { table, quality } = await loadCosts(path);
    expect(quality).toMatchObject({ rows: 4, skipped: 3, bad_time: 2, bad_number: 1 });
    expect(table.cost[0]).toBe(1_234_500_000);
    expect(table.campaignDict).toEqual(["A"]);
  });
});

describe("loadSessions", () => {
  test("the timestamp wins over the date column when both exist", async () => {
    const path = pathOf(
      {
        "sessions.csv": csv(
          "date,user_id,event_timestamp_utc",
          "1999-01-01,u1,2025-01-09T23:59:59Z",
          "2025-01-09,u2,garbage",
          "garbage,u3,2025-01-09T00:00:00+01:00",
        ),
      },
      "sessions.csv",
    );
    const { table, quality } = await loadSessions(path);
    expect(quality).toMatchObject({ rows: 3, skipped: 1, bad_time: 1 });
    expect(Array.from(table.day, formatDate)).toEqual(["2025-01-09", "2025-01-08"]); // +01:00 midnight is the previous UTC day
    expect(table.campaign).toBeNull();
  });

  test("a date-only sessions file works; onlyDay keeps just that day but validates every row", async () => {
    const path = pathOf(
      {
        "sessions.csv": csv(
          "user_id,date,event_name",
          "u1,2025-01-09,open",
          "u2,2025-01-08,open",
          "u3,2025-01-32,open",
        ),
      },
      "sessions.csv",
    );
    const { table, quality, usable } = await loadSessions(path, { onlyDay: Date.UTC(2025, 0, 9) / 86_400_000 });
    expect(table.n).toBe(1);
    expect(usable).toBe(2);
    expect(quality).toMatchObject({ rows: 3, skipped: 1, bad_time: 1 });
  });

  test("neither a timestamp nor a date column is a missing-column error", async () => {
    const path = pathOf({ "sessions.csv": csv("user_id,campaign", "u1,A") }, "sessions.csv");
    await expect(loadSessions(path)).rejects.toThrow(
      /sessions\.csv, line 1, column event_timestamp_utc: missing required column/,
    );
  });
});
