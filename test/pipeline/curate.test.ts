/** sortCurated + the curated CSV, SPEC 4 rule 5 and 4.1: columns, sort order, exact formats. */
import { expect, test } from "bun:test";
import { csv, filePool, PURCHASES_HEADER, run } from "./helpers.ts";

const pool = filePool();

test("sorted by event_time_utc, appsflyer_id, receipt_id; canonical times, exact decimals, true/false", async () => {
  const o = await run(pool, {
    "purchases_raw.csv": csv(
      PURCHASES_HEADER,
      "b,purchase,2025-01-10T10:00:00Z,4.990,  spring ,r2,success",
      "b,purchase,2025-01-10 10:00:00,1.5,Spring,r1,success", // same time and id as above: receipt r1 < r2
      'a,purchase,2025-01-10T10:00:00+00:00,"1.234,5",x,r9,success', // same time: id a < b
      "c,purchase,2025-01-10T09:59:59.999Z,2,x,r0,success", // earliest (fraction truncated)
      '"d,1",purchase,2025-01-11T00:00:00Z,0.10,"sale, ""big""",r3,success', // needs CSV quoting on the way out
      "e,purchase,2025-01-11T00:00:00Z,5,x,r4,success",
      "e,refund,2025-01-12T00:00:00Z,,x,r4,chargeback",
    ),
  });
  expect(o.curated).toBe(
    [
      "appsflyer_id,event_name,event_time_utc,revenue_usd,campaign,receipt_id,chargeback",
      "c,purchase,2025-01-10T09:59:59Z,2,X,r0,false",
      "a,purchase,2025-01-10T10:00:00Z,1234.5,X,r9,false",
      "b,purchase,2025-01-10T10:00:00Z,1.5,SPRING,r1,false",
      "b,purchase,2025-01-10T10:00:00Z,4.99,SPRING,r2,false",
      '"d,1",purchase,2025-01-11T00:00:00Z,0.1,"SALE, ""BIG""",r3,false',
      "e,purchase,2025-01-11T00:00:00Z,0,X,r4,true",
      "",
    ].join("\n"),
  );
});
