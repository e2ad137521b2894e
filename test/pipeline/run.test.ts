/** runPipeline: bad input (nothing written, previous reports untouched), CSV dialects, determinism across workers. */
import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { PipelineInputError } from "../../src/pipeline/errors.ts";
import { createPipelinePool, OUTPUT_FILES, runPipeline } from "../../src/pipeline/run.ts";
import {
  CONFIRMED_HEADER,
  COSTS_HEADER,
  csv,
  type DataFile,
  dataset,
  filePool,
  PURCHASES_HEADER,
  SAMPLE_DIR,
  SESSIONS_HEADER,
} from "./helpers.ts";

const pool = filePool();

const GENERATED_AT = "2025-01-01T00:00:00.000Z";

/** Runs on a dataset whose out dir already holds "previous" reports; expects bad input and checks nothing changed. */
async function expectBadInput(
  files: Partial<Record<DataFile, string | null>>,
  pattern: RegExp,
  asOf?: string,
): Promise<PipelineInputError> {
  const ds = dataset(files);
  mkdirSync(ds.out, { recursive: true });
  for (const name of OUTPUT_FILES) writeFileSync(join(ds.out, name), `previous ${name}`);
  let caught: unknown;
  try {
    await runPipeline({ dataDir: ds.data, outDir: ds.out, toleranceMin: 10, workers: 2, pool, asOf });
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(PipelineInputError);
  expect((caught as Error).message).toMatch(pattern);
  for (const name of OUTPUT_FILES) expect(readFileSync(join(ds.out, name), "utf8")).toBe(`previous ${name}`);
  expect(readdirSync(dirname(ds.out)).sort()).toEqual(["data", "reports"]); // no temp folder left behind
  return caught as PipelineInputError;
}

describe("bad input: exit-2 errors name the file (and line/column), previous reports untouched", () => {
  test("missing file", async () => {
    await expectBadInput({ "sessions.csv": null }, /^sessions\.csv: file not found/);
  });
  test("missing required column", async () => {
    const e = await expectBadInput(
      { "confirmed_purchases.csv": csv("appsflyer_id,event_time_utc,revenue_usd", "u0,2025-01-10T12:00:00Z,1") },
      /^confirmed_purchases\.csv, line 1, column receipt_id: missing required column/,
    );
    expect(e.column).toBe("receipt_id");
  });
  test("empty file", async () => {
    await expectBadInput({ "costs_daily.csv": "" }, /^costs_daily\.csv, line 1: empty file/);
  });
  test("header only", async () => {
    await expectBadInput(
      { "purchases_raw.csv": PURCHASES_HEADER + "\r\n" },
      /^purchases_raw\.csv, line 1: no data rows/,
    );
  });
  test("no usable row (every row unparseable) names the first bad line and column", async () => {
    await expectBadInput(
      { "costs_daily.csv": csv(COSTS_HEADER, "2025-13-01,A,1", "2025-01-01,A,x") },
      /^costs_daily\.csv, line 2, column date: no usable row/,
    );
  });
  test("no curated purchase and no --as-of; --as-of makes the same data valid", async () => {
    const files = { "purchases_raw.csv": csv(PURCHASES_HEADER, "u1,purchase,2025-01-10T10:00:00Z,1,A,r1,failed") };
    await expectBadInput(files, /^purchases_raw\.csv: no curated purchase/);
    const ds = dataset(files);
    const result = await runPipeline({
      dataDir: ds.data,
      outDir: ds.out,
      toleranceMin: 10,
      workers: 2,
      pool,
      asOf: "2025-01-10",
    });
    expect(result.summary.curated).toBe(0);
    expect(readFileSync(join(ds.out, "purchases_curated.csv"), "utf8")).toBe(
      "appsflyer_id,event_name,event_time_utc,revenue_usd,campaign,receipt_id,chargeback\n",
    );
  });
  test("a CRLF file with LF lines appended: refused at the first LF line (the fast reader falls back, papaparse would merge rows)", async () => {
    const body = ["u1,purchase,2025-01-10T10:00:00Z,1,A,r1,success", "u2,purchase,2025-01-10T11:00:00Z,2,A,r2,success"];
    const text = `${PURCHASES_HEADER}\r\n${body[0]}\r\n${body[1]}\n${body[0].replace("r1", "r3")}\n`;
    const e = await expectBadInput({ "purchases_raw.csv": text }, /^purchases_raw\.csv, line 3: mixed line endings/);
    expect(e.line).toBe(3);
  });
  test("bad --as-of and --tolerance-min", async () => {
    await expectBadInput({}, /^--as-of: must be a real date/, "2025-02-30");
    const ds = dataset();
    await expect(runPipeline({ dataDir: ds.data, outDir: ds.out, toleranceMin: -1, workers: 1, pool })).rejects.toThrow(
      /--tolerance-min/,
    );
  });
  test("--workers takes the CLI's range (1..256) in runPipeline too", async () => {
    const ds = dataset();
    for (const workers of [0, 257, 1.5]) {
      const run = runPipeline({ dataDir: ds.data, outDir: ds.out, toleranceMin: 10, workers, pool });
      await expect(run).rejects.toThrow(/^--workers: must be an integer from 1 to 256/);
    }
  });
});

test("a successful run replaces the previous reports and leaves other files in the folder alone", async () => {
  const ds = dataset();
  mkdirSync(ds.out, { recursive: true });
  writeFileSync(join(ds.out, "roas_d1.json"), "stale");
  writeFileSync(join(ds.out, "keep.txt"), "mine");
  const result = await runPipeline({ dataDir: ds.data, outDir: ds.out, toleranceMin: 10, workers: 2, pool });
  expect(readdirSync(ds.out).sort()).toEqual([...OUTPUT_FILES, "keep.txt"].sort());
  expect(readFileSync(join(ds.out, "roas_d1.json"), "utf8")).not.toBe("stale");
  expect(result.stages.map((s) => s.name)).toEqual([
    "load purchases_raw.csv",
    "load confirmed_purchases.csv",
    "load costs_daily.csv",
    "load sessions.csv",
    "filter",
    "dedupe",
    "chargebacks",
    "sort",
    "reconcile",
    "roas",
    "anomaly",
    "arpdau",
    "write",
  ]);
  expect(existsSync(join(ds.root, "data"))).toBe(true);
});

test("BOM, CRLF, quoted fields, header case/spacing, column order and extra columns do not change any output", async () => {
  const plain = {
    "purchases_raw.csv": csv(
      PURCHASES_HEADER,
      "u1,purchase,2025-01-10T10:00:00Z,4.99,A,r1,success",
      "u2,purchase,2025-01-11T10:00:00Z,1.5,B,r2,success",
    ),
    "confirmed_purchases.csv": csv(CONFIRMED_HEADER, "u1,2025-01-10T10:01:00Z,4.99,r1"),
    "costs_daily.csv": csv(COSTS_HEADER, "2025-01-10,A,2"),
    "sessions.csv": csv(SESSIONS_HEADER, "u1,2025-01-10T09:00:00Z,A"),
  };
  const bom = "\uFEFF";
  const messy = {
    "purchases_raw.csv":
      bom +
      ' Status ,"APPSFLYER_ID",Event_Name,event_time_utc ,Revenue_USD,Campaign,Receipt_ID,extra\r\n' +
      'success,"u1","purchase",2025-01-10T10:00:00Z,"4.99","A","r1","x, ""y"""\r\n' +
      'success,u2,purchase,"2025-01-11T10:00:00Z",1.5,B,r2,"multi\r\nline"\r\n',
    "confirmed_purchases.csv":
      bom +
      'RECEIPT_ID,appsflyer_id,Event_Time_UTC,revenue_usd,campaign\r\nr1,u1,2025-01-10T10:01:00Z,"4,99",ignored\r\n',
    "costs_daily.csv": bom + 'Date , Campaign , AD_COST_USD \r\n2025-01-10,"a","2,00"\r\n',
    "sessions.csv": bom + "campaign,user_id,event_timestamp_utc,event_name\r\n a ,u1,2025-01-10 09:00:00,open\r\n",
  };
  const read = async (files: typeof plain) => {
    const ds = dataset(files);
    await runPipeline({
      dataDir: ds.data,
      outDir: ds.out,
      toleranceMin: 10,
      workers: 2,
      pool,
      generatedAt: GENERATED_AT,
    });
    return OUTPUT_FILES.map((name) => readFileSync(join(ds.out, name), "utf8"));
  };
  const [a, b] = [await read(plain), await read(messy)];
  expect(b).toEqual(a);
  expect(a[2]).toContain('"roas": 2.495'); // 4.99 / 2
});

test("outputs are byte-identical for --workers 1, 2 and 4", async () => {
  const outputs: Buffer[][] = [];
  for (const workers of [1, 2, 4]) {
    const ds = dataset();
    const own = createPipelinePool(workers);
    try {
      await runPipeline({
        dataDir: SAMPLE_DIR,
        outDir: ds.out,
        toleranceMin: 10,
        workers,
        pool: own,
        generatedAt: GENERATED_AT,
      });
    } finally {
      await own.destroy();
    }
    outputs.push(OUTPUT_FILES.map((name) => readFileSync(join(ds.out, name))));
  }
  expect(outputs[0]![1]!.length).toBeGreaterThan(100_000); // reconciliation.json of the sample: many ids across partitions
  expect(outputs[1]).toEqual(outputs[0]!);
  expect(outputs[2]).toEqual(outputs[0]!);
});

test("without a pool option the run creates and destroys its own", async () => {
  const ds = dataset();
  const result = await runPipeline({ dataDir: ds.data, outDir: ds.out, toleranceMin: 10, workers: 1 });
  expect(result.summary.matched).toBe(1);
});
