/**
 * npm run export:purchases: records posted to /af/postback come out as a purchases_raw.csv (SPEC 4's
 * columns) that the pipeline curates and reconciles.
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "bun";
import { exportPurchases, PURCHASES_RAW_HEADER } from "../src/modules/af-postback/export";
import { call } from "./helpers";
import { CONFIRMED_HEADER, csv, filePool, run } from "./pipeline/helpers.ts";

const pool = filePool();
const TOKEN = process.env.AF_PUSH_TOKEN!;
const tag = `${process.pid}-${Date.now().toString(36)}`;
const id = (n: number) => `exp-${tag}-u${n}`;
const outDir = mkdtempSync(join(tmpdir(), "af-export-"));

async function post(record: Record<string, unknown>) {
  const response = await call("POST", "/af/postback", { body: record, headers: { authorization: TOKEN } });
  expect(response.status).toBe(200);
  return response;
}

const receipt = (value: string) => JSON.stringify({ af_currency: "USD", af_receipt_id: value });

function exportCli(args: string[]) {
  const result = spawnSync({
    cmd: [process.execPath, "scripts/export-purchases.ts", ...args],
    env: { ...process.env, LOG_LEVEL: "silent" },
    timeout: 120_000,
  });
  return { exitCode: result.exitCode, stdout: result.stdout.toString(), stderr: result.stderr.toString() };
}

test("posted records -> export -> pipeline: curated rows and reconciliation counts", async () => {
  // in range (2031-05-10 .. 2031-05-11): three purchases, one of them retried
  const first = {
    appsflyer_id: id(1),
    event_name: "af_purchase",
    event_time: "2031-05-10 10:00:00.250",
    event_revenue_usd: "4.99",
    campaign: "Spring, EU",
    media_source: "facebook",
    event_value: receipt("R1"),
  };
  await post(first);
  expect((await post({ ...first, event_time: "2031-05-10 10:00:00.900" })).headers.get("idempotent-replayed")).toBe(
    "true",
  );
  await post({
    appsflyer_id: id(2),
    event_name: "af_purchase",
    event_time: "2031-05-10 11:30:00.000",
    event_revenue_usd: 1.5,
    campaign: "spring",
    event_value: receipt("R2"),
  });
  await post({
    appsflyer_id: id(3),
    event_name: "purchase",
    event_time: "2031-05-11 09:00:00",
    event_revenue_usd: "0.990",
  });
  // not exported: other events, and purchases outside the dates
  await post({ appsflyer_id: id(2), event_name: "level_up", event_time: "2031-05-10 11:00:00" });
  await post({
    appsflyer_id: id(3),
    event_name: "install",
    event_time: "2031-05-10 08:00:00",
    media_source: "organic",
  });
  await post({
    appsflyer_id: id(4),
    event_name: "af_purchase",
    event_time: "2031-05-12 00:00:00.000",
    event_revenue_usd: "2",
  });
  await post({
    appsflyer_id: id(5),
    event_name: "af_purchase",
    event_time: "2031-05-09 23:59:59.999",
    event_revenue_usd: "2",
  });

  const out = join(outDir, "purchases_raw.csv");
  expect(await exportPurchases({ from: "2031-05-10", to: "2031-05-11", out })).toBe(3);
  const exported = readFileSync(out, "utf8");
  expect(exported).toBe(
    csv(
      PURCHASES_RAW_HEADER,
      `${id(1)},purchase,2031-05-10T10:00:00Z,4.99,"Spring, EU",R1,success`,
      `${id(2)},purchase,2031-05-10T11:30:00Z,1.5,spring,R2,success`,
      `${id(3)},purchase,2031-05-11T09:00:00Z,0.99,,,success`,
    ),
  );

  // one row per query: the keyset pages give the same file
  const paged = join(outDir, "paged.csv");
  expect(await exportPurchases({ from: "2031-05-10", to: "2031-05-11", out: paged, batchRows: 1 })).toBe(3);
  expect(readFileSync(paged, "utf8")).toBe(exported);

  // the store confirms u1 three minutes later (a match), u2 an hour later (both sides unmatched), and u9 nobody saw
  const confirmed = csv(
    CONFIRMED_HEADER,
    `${id(1)},2031-05-10T10:03:00Z,4.99,R1`,
    `${id(2)},2031-05-10T12:30:00Z,1.50,R2`,
    `${id(9)},2031-05-11T10:00:00Z,3.00,R9`,
  );
  const outputs = await run(pool, { "purchases_raw.csv": exported, "confirmed_purchases.csv": confirmed });
  expect(outputs.quality.files["purchases_raw.csv"]).toEqual({
    rows: 3,
    skipped: 0,
    reasons: { bad_time: 0, bad_number: 0 },
  });
  expect(outputs.curatedRows).toEqual([
    [id(1), "purchase", "2031-05-10T10:00:00Z", "4.99", '"SPRING', ' EU"', "R1", "false"],
    [id(2), "purchase", "2031-05-10T11:30:00Z", "1.5", "SPRING", "R2", "false"],
    [id(3), "purchase", "2031-05-11T09:00:00Z", "0.99", "", "", "false"],
  ]);
  expect(outputs.reconciliation.summary).toMatchObject({
    matched: 1,
    af_only: 2,
    confirmed_only: 2,
    matched_revenue_usd: 4.99,
    af_only_revenue_usd: 2.49,
    confirmed_only_revenue_usd: 4.5,
    revenue_mismatches: 0,
  });
});

test("an export with no purchase in the dates is the header alone", async () => {
  const out = join(outDir, "empty.csv");
  expect(await exportPurchases({ from: "1999-01-01", to: "1999-01-31", out })).toBe(0);
  expect(readFileSync(out, "utf8")).toBe(`${PURCHASES_RAW_HEADER}\n`);
});

describe("the command line", () => {
  test("a missing, impossible or reversed date, a missing --out or an unknown flag exits 2 naming it", () => {
    const cases: [string[], RegExp][] = [
      [["--to", "2031-05-11", "--out", "x.csv"], /--from is required/],
      [["--from", "2031-02-30", "--to", "2031-05-11", "--out", "x.csv"], /--from must be a real date/],
      [["--from", "2031-05-12", "--to", "2031-05-11", "--out", "x.csv"], /--from \(2031-05-12\) is after --to/],
      [["--from", "2031-05-10", "--to", "2031-05-11"], /--out is required/],
      [["--from", "2031-05-10", "--to", "2031-05-11", "--out", "x.csv", "--since", "1"], /Unknown option '--since'/],
    ];
    for (const [args, message] of cases) {
      const result = exportCli(args);
      expect(result.exitCode).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).toContain("usage: npm run export:purchases");
    }
  });

  test("writes the file and says how many rows (the same rows as in-process when both use PostgreSQL)", async () => {
    const out = join(outDir, "cli.csv");
    const result = exportCli(["--", "--from", "2031-05-10", "--to", "2031-05-11", "--out", out]);
    expect(result.exitCode).toBe(0);
    const text = readFileSync(out, "utf8");
    expect(text.startsWith(`${PURCHASES_RAW_HEADER}\n`)).toBe(true);
    const rows = text.trimEnd().split("\n").length - 1;
    expect(result.stdout).toBe(`${rows} purchases from 2031-05-10 to 2031-05-11 written to ${out}\n`);
    // memory:// gives the CLI a database of its own (empty); PostgreSQL is the one this process wrote to
    if (process.env.DATABASE_URL?.startsWith("postgres")) {
      const inProcess = join(outDir, "in-process.csv");
      await exportPurchases({ from: "2031-05-10", to: "2031-05-11", out: inProcess });
      expect(text).toBe(readFileSync(inProcess, "utf8"));
    } else {
      expect(rows).toBe(0);
    }
  });
});
