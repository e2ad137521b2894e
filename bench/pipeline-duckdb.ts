/**
 * The revenue pipeline (SPEC §4) run by DuckDB, as SQL over the same CSV files: the second opinion
 * of `bun run bench:pipeline`. Runs bench/duckdb/NN_*.sql in order and writes the same six data
 * outputs as `bun run pipeline` (no index.html) into --out-dir.
 *
 *   bun bench/pipeline-duckdb.ts --data-dir DIR --out-dir OUT [--as-of YYYY-MM-DD]
 *     [--tolerance-min 10] [--threads N] [--memory-limit-mib M]
 *
 * A SQL file is one stage; `-- @step NAME` splits it into timed steps, `-- @repeat-while SQL`
 * repeats a step while SQL returns true, `-- @query FILE` names a result query (10_results.sql).
 * Progress per step on stderr; one JSON line on stdout: {stages: [{stage, step, ms, rows}], rounds}.
 * Exit 2 on bad input (missing file or column).
 */

import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { type DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";

const SQL_DIR = join(import.meta.dir, "duckdb");

/** One timed step of a stage. */
export interface StepTiming {
  stage: string;
  step: string;
  ms: number;
  rows: number;
}

/** A parsed SQL file: its steps, each with its statements and an optional repeat condition. */
export interface SqlStage {
  stage: string;
  steps: { name: string; sql: string; repeatWhile?: string }[];
}

/** True when the text holds more than comments and blank lines. */
const hasSql = (text: string) => text.split("\n").some((l) => l.trim() !== "" && !l.trim().startsWith("--"));

/** Splits a stage file on `-- @step` / `-- @query` markers (text before the first marker is one unnamed step). */
export function parseStage(file: string, text: string): SqlStage {
  const stage = file.replace(/^\d+_/, "").replace(/\.sql$/, "");
  const steps: SqlStage["steps"] = [];
  let current = { name: stage, sql: "", repeatWhile: undefined as string | undefined };
  for (const line of text.split("\n")) {
    const marker = /^--\s*@(step|query)\s+(.+)$/.exec(line);
    const repeat = /^--\s*@repeat-while\s+(.+)$/.exec(line);
    if (marker) {
      if (hasSql(current.sql)) steps.push(current);
      current = { name: marker[2]!.trim(), sql: "", repeatWhile: undefined };
    } else if (repeat) current.repeatWhile = repeat[1]!.trim();
    else current.sql += line + "\n";
  }
  if (hasSql(current.sql)) steps.push(current);
  return { stage, steps };
}

/** The files and the SPEC names of their columns (optional ones may be absent). */
const INPUTS = {
  purchases: {
    file: "purchases_raw.csv",
    required: ["appsflyer_id", "event_name", "event_time_utc", "revenue_usd", "campaign", "receipt_id", "status"],
  },
  confirmed: {
    file: "confirmed_purchases.csv",
    required: ["appsflyer_id", "event_time_utc", "revenue_usd", "receipt_id"],
  },
  costs: { file: "costs_daily.csv", required: ["date", "campaign", "ad_cost_usd"] },
  sessions: { file: "sessions.csv", required: ["user_id"] },
} as const;

class BadInput extends Error {}

const quoteIdent = (s: string) => '"' + s.replace(/"/g, '""') + '"';
const quoteText = (s: string) => "'" + s.replace(/'/g, "''") + "'";

/**
 * Creates src_<kind> views: read_csv (every column VARCHAR, RFC 4180 quotes), header names
 * compared trimmed and case-insensitive (the first of duplicates wins), renamed to the SPEC names,
 * and sets the variables the SQL needs about column order and optional columns.
 */
async function defineSources(con: DuckDBConnection, dataDir: string): Promise<void> {
  for (const [kind, spec] of Object.entries(INPUTS)) {
    const path = join(dataDir, spec.file);
    if (!existsSync(path)) throw new BadInput(`${spec.file}: file not found: ${path}`);
    const csv = `read_csv(${quoteText(path)}, header = true, all_varchar = true, delim = ',', quote = '"', escape = '"')`;
    const described = (await con.runAndReadAll(`DESCRIBE SELECT * FROM ${csv}`)).getRowObjectsJson();
    const actual = described.map((r) => String(r.column_name));
    const at = (name: string) =>
      actual.findIndex(
        (a) =>
          a
            .replace(/^\uFEFF/, "")
            .trim()
            .toLowerCase() === name,
      );
    const col = (name: string) => (at(name) === -1 ? "NULL::VARCHAR" : quoteIdent(actual[at(name)]!));
    for (const name of spec.required)
      if (at(name) === -1) throw new BadInput(`${spec.file}: missing required column "${name}"`);
    let select = spec.required.map((name) => `${col(name)} AS ${name}`);
    if (kind === "sessions") {
      const stamp = at("event_timestamp_utc");
      if (stamp === -1 && at("date") === -1)
        throw new BadInput(`${spec.file}: missing required column "event_timestamp_utc" or "date"`);
      select = [
        ...select,
        `${col(stamp !== -1 ? "event_timestamp_utc" : "date")} AS when_text`,
        `${col("campaign")} AS campaign`,
      ];
      await con.run(
        `SET VARIABLE sessions_timestamp = ${stamp !== -1}; SET VARIABLE sessions_has_campaign = ${at("campaign") !== -1}`,
      );
    } else {
      const [first, second] = kind === "costs" ? ["date", "ad_cost_usd"] : ["event_time_utc", "revenue_usd"];
      await con.run(`SET VARIABLE ${kind}_${kind === "costs" ? "date" : "time"}_first = ${at(first!) < at(second!)}`);
    }
    await con.run(`CREATE VIEW src_${kind} AS SELECT ${select.join(", ")} FROM ${csv}`);
  }
}

/**
 * Rows each step works on, for rows/s: counted (untimed) before the step for stages that read a
 * table they may drop, after it for loads (the rows read). Steps not listed report 0.
 */
const ROWS_SQL: Record<string, { before: boolean; sql: string }> = {
  "load purchases_raw.csv": { before: false, sql: "SELECT count(*) FROM purchases" },
  "load confirmed_purchases.csv": { before: false, sql: "SELECT count(*) FROM confirmed" },
  "load costs_daily.csv": { before: false, sql: "SELECT count(*) FROM costs" },
  "load sessions.csv": { before: false, sql: "SELECT sum(rows) FROM session_groups" },
  filter: { before: true, sql: "SELECT count(*) FROM purchases" },
  dedupe: { before: true, sql: "SELECT count(*) FROM kept" },
  chargebacks: { before: true, sql: "SELECT count(*) FROM uniq" },
  candidates: {
    before: true,
    sql: "SELECT (SELECT count(*) FROM curated) + (SELECT count(*) FROM confirmed WHERE bad IS NULL)",
  },
  roas: { before: true, sql: "SELECT (SELECT count(*) FROM curated) + (SELECT count(*) FROM costs)" },
  anomaly: { before: true, sql: "SELECT count(*) FROM daily" },
  arpdau: { before: true, sql: "SELECT count(*) FROM session_groups WHERE user_id IS NOT NULL" },
  "write purchases_curated.csv": { before: false, sql: "SELECT count(*) FROM curated" },
  "write reconciliation.json": { before: false, sql: "SELECT count(*) FROM details" },
};

async function countRows(con: DuckDBConnection, step: string, before: boolean): Promise<number> {
  const q = ROWS_SQL[step];
  if (!q || q.before !== before) return 0;
  return Number(Object.values((await con.runAndReadAll(q.sql)).getRowObjectsJson()[0]!)[0]);
}

/** Numbers as JSON numbers (DECIMAL and BIGINT arrive as strings), nulls kept. */
function jsonRow(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row))
    out[k] = typeof v === "string" && /^-?\d+(\.\d+)?$/.test(v) && k !== "campaign" && k !== "file" ? Number(v) : v;
  return out;
}

/** Runs every stage; returns the step timings and the number of reconciliation rounds. */
export async function runDuckdb(o: {
  dataDir: string;
  outDir: string;
  asOf?: string;
  toleranceMin: number;
  threads?: number;
  memoryLimitMiB?: number;
}): Promise<{ stages: StepTiming[]; rounds: number }> {
  const config: Record<string, string> = {};
  if (o.threads) config.threads = String(o.threads);
  if (o.memoryLimitMiB) {
    config.memory_limit = `${o.memoryLimitMiB}MiB`;
    config.temp_directory = join(resolve(o.outDir), "..", ".duckdb-spill"); // beyond the limit it spills here
  }
  const instance = await DuckDBInstance.create(":memory:", config);
  const con = await instance.connect();
  const outDir = resolve(o.outDir);
  mkdirSync(outDir, { recursive: true });
  const stages: StepTiming[] = [];
  let rounds = 0;
  try {
    await con.run("SET TimeZone = 'UTC'"); // a time without offset is UTC
    await con.run(`SET VARIABLE tolerance_sec = ${o.toleranceMin * 60}`);
    await con.run(
      `SET VARIABLE as_of_day = ${o.asOf ? `(DATE ${quoteText(o.asOf)} - DATE '1970-01-01')` : "NULL::BIGINT"}`,
    );
    await defineSources(con, o.dataDir);
    const files = readdirSync(SQL_DIR)
      .filter((f) => /^\d\d_.*\.sql$/.test(f))
      .sort();
    const outputs: Record<string, Record<string, unknown>[]> = {};
    for (const file of files) {
      const text = readFileSync(join(SQL_DIR, file), "utf8")
        .replaceAll("{{out}}", outDir.replace(/'/g, "''"))
        .replaceAll("{{tolerance_minutes}}", JSON.stringify(o.toleranceMin));
      const { stage, steps } = parseStage(file, text);
      for (const step of steps) {
        const rowsBefore = stage === "macros" || stage === "results" ? 0 : await countRows(con, step.name, true);
        const t0 = performance.now(),
          cpu0 = process.cpuUsage();
        if (stage === "results") {
          outputs[step.name] = (await con.runAndReadAll(step.sql)).getRowObjectsJson().map(jsonRow);
          continue;
        }
        if (step.repeatWhile) {
          const more = async () =>
            Object.values((await con.runAndReadAll(step.repeatWhile!)).getRowObjectsJson()[0]!)[0] === true;
          while (await more()) {
            await con.run(step.sql);
            rounds++;
          }
        } else await con.run(step.sql);
        const ms = performance.now() - t0,
          cpu = process.cpuUsage(cpu0);
        if (stage === "macros") continue;
        const rows = rowsBefore + (await countRows(con, step.name, false));
        stages.push({ stage, step: step.name, ms, rows });
        process.stderr.write(
          `duckdb: ${(stage === step.name ? stage : `${stage}: ${step.name}`).padEnd(40)} ${rows.toLocaleString("en-US").padStart(12)} rows  ${(ms / 1000).toFixed(2).padStart(7)} s  (cpu ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s)\n`,
        );
      }
    }
    const t0 = performance.now();
    writeSmallOutputs(outDir, outputs);
    stages.push({ stage: "write", step: "write small JSON files", ms: performance.now() - t0, rows: 0 });
    return { stages, rounds };
  } finally {
    con.closeSync();
    instance.closeSync();
  }
}

/** quality.json, roas_d1.json, roas_anomaly.json, arpdau_d1.json: pretty JSON, as the pipeline writes them. */
function writeSmallOutputs(outDir: string, outputs: Record<string, Record<string, unknown>[]>): void {
  const text = (v: unknown) => JSON.stringify(v, null, 2) + "\n";
  const files: Record<string, unknown> = {};
  for (const q of outputs["quality.json"] ?? []) {
    files[q.file as string] = {
      rows: q.rows,
      skipped: q.skipped,
      reasons: { bad_time: q.bad_time, bad_number: q.bad_number },
    };
  }
  writeFileSync(join(outDir, "quality.json"), text({ files }));
  for (const name of ["roas_d1.json", "roas_anomaly.json", "arpdau_d1.json"])
    writeFileSync(join(outDir, name), text(outputs[name] ?? []));
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      "data-dir": { type: "string" },
      "out-dir": { type: "string" },
      "as-of": { type: "string" },
      "tolerance-min": { type: "string", default: "10" },
      threads: { type: "string" },
      "memory-limit-mib": { type: "string" },
    },
  });
  if (!values["data-dir"] || !values["out-dir"]) {
    process.stderr.write(
      "usage: bun bench/pipeline-duckdb.ts --data-dir DIR --out-dir OUT [--as-of YYYY-MM-DD] [--tolerance-min 10] [--threads N] [--memory-limit-mib M]\n",
    );
    process.exit(2);
  }
  try {
    const result = await runDuckdb({
      dataDir: values["data-dir"],
      outDir: values["out-dir"],
      asOf: values["as-of"],
      toleranceMin: Number(values["tolerance-min"]),
      threads: values.threads ? Number(values.threads) : undefined,
      memoryLimitMiB: values["memory-limit-mib"] ? Number(values["memory-limit-mib"]) : undefined,
    });
    process.stdout.write(JSON.stringify(result) + "\n");
  } catch (error) {
    process.stderr.write(`duckdb: ${error instanceof BadInput ? "bad input: " : ""}${(error as Error).message}\n`);
    process.exit(error instanceof BadInput ? 2 : 1);
  }
}
