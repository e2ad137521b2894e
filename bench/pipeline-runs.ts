/**
 * The runs of `bun run bench:pipeline`: the cached data set, the order of the runs (baseline and
 * candidate interleaved), one measured run of one configuration, and the edge-case comparison.
 */
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Options } from "./pipeline";
import { type Comparison, compareOutputs } from "./pipeline-compare";
import { measure, memAvailableMiB, waitQuiet } from "./pipeline-measure";
import type { RunRecord } from "./pipeline-report";

const ROOT = resolve(import.meta.dir, "..");
const BUN = process.execPath;

/** One configuration: our pipeline (the candidate, or the --baseline snapshot) with N workers, or DuckDB. */
export interface Config {
  kind: RunRecord["kind"];
  /** 0 for DuckDB */
  workers: number;
}

/**
 * The configurations of one run index, in the order they run: per worker count the baseline
 * (when there is one) right before the candidate, then DuckDB, so that drift of the machine
 * during the session hits baseline and candidate alike.
 */
export function schedule(workers: number[], withBaseline: boolean): Config[] {
  return [
    ...workers.flatMap((w): Config[] => [
      ...(withBaseline ? [{ kind: "baseline" as const, workers: w }] : []),
      { kind: "ours", workers: w },
    ]),
    { kind: "duckdb", workers: 0 },
  ];
}

/** The output folder name of a configuration: ours-w1, baseline-w2, duckdb. */
export const outName = (c: Config) => (c.kind === "duckdb" ? "duckdb" : `${c.kind}-w${c.workers}`);

/** The cached data set for these options; generated (bun scripts/gen-data.ts) unless complete already. */
export async function dataSet(o: Options): Promise<string> {
  const tag = `${o.seed}-${o.purchases}${o.days !== 30 || o.campaigns !== 6 ? `-d${o.days}-c${o.campaigns}` : ""}${o.sessionsCampaign ? "" : "-nocamp"}`;
  const dir = join(ROOT, "bench", ".cache", tag);
  const marker = join(dir, ".complete");
  if (existsSync(marker)) {
    process.stderr.write(`bench: data ${dir} (cached)\n`);
    return dir;
  }
  rmSync(dir, { recursive: true, force: true });
  process.stderr.write(`bench: generating ${o.purchases.toLocaleString("en-US")} purchases into ${dir} ...\n`);
  const args = [
    "scripts/gen-data.ts",
    "--out",
    dir,
    "--purchases",
    String(o.purchases),
    "--seed",
    o.seed,
    "--days",
    String(o.days),
    "--campaigns",
    String(o.campaigns),
  ];
  const gen = Bun.spawn([BUN, ...args, ...(o.sessionsCampaign ? ["--sessions-campaign"] : [])], {
    cwd: ROOT,
    stdout: "inherit",
    stderr: "inherit",
  });
  if ((await gen.exited) !== 0) throw new Error("gen-data failed");
  writeFileSync(marker, JSON.stringify({ args, at: new Date().toISOString() }) + "\n");
  return dir;
}

/** Our per-stage lines on stderr: "pipeline: <stage>  <rows> rows  <s> s  <rows/s> rows/s". */
export function parseOurStages(stderr: string): { step: string; ms: number; rows: number }[] {
  const out: { step: string; ms: number; rows: number }[] = [];
  for (const line of stderr.split("\n")) {
    const m = /^pipeline: (.+?)\s+([\d,]+) rows\s+([\d.]+) s/.exec(line.replace(/\r?\x1b\[K/g, ""));
    if (m) out.push({ step: m[1]!.trim(), rows: Number(m[2]!.replace(/,/g, "")), ms: Number(m[3]) * 1000 });
  }
  return out;
}

/**
 * One run of one configuration into `outDir`; `oursRoot` is the folder our pipeline runs from
 * (the candidate's or the baseline's). Every run gets SOURCE_DATE_EPOCH=0, which pins the
 * report's "generated" timestamp: index.html then compares byte for byte between worker counts
 * and between baseline and candidate.
 */
export async function runOnce(
  c: Config,
  o: Options,
  data: string,
  outDir: string,
  oursRoot: string,
): Promise<RunRecord> {
  rmSync(outDir, { recursive: true, force: true });
  const common = [
    "--data-dir",
    data,
    "--out-dir",
    outDir,
    "--tolerance-min",
    String(o.toleranceMin),
    ...(o.asOf ? ["--as-of", o.asOf] : []),
  ];
  const cmd =
    c.kind !== "duckdb"
      ? [BUN, join(oursRoot, "src/pipeline/cli.ts"), ...common, "--workers", String(c.workers)]
      : [
          BUN,
          "bench/pipeline-duckdb.ts",
          ...common,
          ...(o.duckdbThreads ? ["--threads", String(o.duckdbThreads)] : []),
          // DuckDB sizes itself to 80% of RAM by default; on a shared machine, to what is free (it spills beyond)
          "--memory-limit-mib",
          String(Math.floor(memAvailableMiB() * 0.75)),
        ];
  const label =
    c.kind !== "duckdb"
      ? `${c.kind} --workers ${c.workers}`
      : `duckdb${o.duckdbThreads ? ` --threads ${o.duckdbThreads}` : ""}`;
  // the previous run's buffered writes (gigabytes at 10M) would be flushed during this one and
  // slow its device writes: every run starts with nothing dirty
  Bun.spawnSync(["sync"]);
  if (o.quietWaitS > 0) await waitQuiet(o.quietWaitS);
  process.stderr.write(`bench: running ${label} ...\n`);
  const r = await measure(cmd, ROOT, { SOURCE_DATE_EPOCH: "0" });
  if (r.killedForMemory)
    throw new Error(
      `${label} stopped by the memory guard: under 1 GiB available after ${(r.wallMs / 1000).toFixed(1)} s`,
    );
  if (r.code !== 0) {
    process.stderr.write(r.stderr.slice(-4000));
    throw new Error(`${label} exited ${r.code}`);
  }
  let steps: RunRecord["steps"];
  let rounds: number | undefined;
  if (c.kind !== "duckdb")
    steps = parseOurStages(r.stderr).map((s) => ({ ...s, stage: s.step.startsWith("load ") ? "load" : s.step }));
  else {
    const parsed = JSON.parse(r.stdout.trim().split("\n").pop()!) as { stages: RunRecord["steps"]; rounds: number };
    steps = parsed.stages;
    rounds = parsed.rounds;
  }
  const summary = c.kind !== "duckdb" ? r.stdout.trim() : "";
  const t = r.time;
  process.stderr.write(
    `bench: ${label}: ${(r.wallMs / 1000).toFixed(2)} s wall${t ? `, ${t.userS.toFixed(2)} s user, ${t.sysS.toFixed(2)} s sys, ${t.minorFaults} minor / ${t.majorFaults} major faults` : ""}, peak RSS ${r.peakMiB.toFixed(0)} MiB${r.otherCores === undefined ? "" : `, other processes used ${r.otherCores.toFixed(2)} cores meanwhile`}\n`,
  );
  return {
    label,
    kind: c.kind,
    workers: c.workers,
    wallMs: r.wallMs,
    peakMiB: r.peakMiB,
    time: r.time,
    otherCores: r.otherCores,
    steps,
    rounds,
    summary,
    outDir,
  };
}

/**
 * Both sides on bench/duckdb/edge-cases (hand-written inputs: every money and time format of the
 * SPEC, bad values, duplicates, chargebacks with and without revenue or receipt, greedy matching
 * ties, quoted newlines, ROAS and avg7 corner cases) at two tolerances: the second opinion on
 * the rules that generated data rarely exercises. Cheap, so it runs before every benchmark.
 */
export function edgeCases(outRoot: string, oursRoot: string): Comparison[] {
  const data = join(ROOT, "bench", "duckdb", "edge-cases");
  return ["10", "1"].map((tol) => {
    const run = (name: string, cmd: string[]) => {
      const out = join(outRoot, `edge-${name}-tol${tol}`);
      const r = Bun.spawnSync([BUN, ...cmd, "--data-dir", data, "--out-dir", out, "--tolerance-min", tol], {
        cwd: ROOT,
        env: { ...process.env, SOURCE_DATE_EPOCH: "0" },
      });
      if (r.exitCode !== 0)
        throw new Error(`edge cases, ${name}: exit ${r.exitCode}: ${r.stderr.toString().slice(-2000)}`);
      return out;
    };
    return compareOutputs(
      run("ours", [join(oursRoot, "src/pipeline/cli.ts"), "--workers", "1"]),
      run("duckdb", ["bench/pipeline-duckdb.ts"]),
    );
  });
}

/** The median run by wall time (the lower middle one of an even count): every column of the report comes from it. */
export const median = (runs: RunRecord[]) =>
  [...runs].sort((a, b) => a.wallMs - b.wallMs)[Math.floor((runs.length - 1) / 2)]!;
