/**
 * The printed result of `bun run bench:pipeline`: markdown tables (pasteable into BENCHMARKS.md):
 * one row per configuration (wall, user and system CPU, system share, page faults, peak RSS,
 * other processes' cores, ratios to DuckDB and to the baseline), candidate / baseline per worker
 * count, wall time and rows/s per stage, our time / DuckDB time, then the comparison verdicts.
 */
import { STAGE_ORDER } from "../src/pipeline/run/stage-log.ts";
import type { Comparison } from "./pipeline-compare";
import type { TimeFields } from "./pipeline-measure";

/** One measured run of one configuration. */
export interface RunRecord {
  label: string;
  /** ours: the candidate (working tree or --ref); baseline: the --baseline snapshot */
  kind: "ours" | "baseline" | "duckdb";
  workers: number;
  wallMs: number;
  peakMiB: number;
  /** user/system CPU s, minor/major page faults (undefined without /usr/bin/time: printed n/a) */
  time?: TimeFields;
  /** average cores other processes used during the run (undefined without /usr/bin/time) */
  otherCores?: number;
  /** stage = table row group (load, filter, ..., write); step = the finer name */
  steps: { stage: string; step: string; ms: number; rows: number }[];
  /** DuckDB only: rounds of the greedy matching */
  rounds?: number;
  summary: string;
  outDir: string;
}

export interface ReportInput {
  command: string;
  date: string;
  machine: string;
  data: string;
  /** the commit our pipeline ran from */
  source: string;
  /** the commit of the --baseline runs, if any */
  baseline?: string;
  /** the median run (by wall time) of each configuration */
  runs: RunRecord[];
  allRuns: RunRecord[][];
  comparisons: Comparison[];
  keptOutputs?: string;
}

/** The pipeline's stages in order, with DuckDB's "quality" step after the loads. */
const ORDER = [
  ...STAGE_ORDER.filter((s) => s.startsWith("load ")),
  "quality",
  ...STAGE_ORDER.filter((s) => !s.startsWith("load ")),
];

/** Milliseconds per table row for one run: loads per file, sub-steps (reconcile, write) under their stage. */
function rowsOf(run: RunRecord): Map<string, { ms: number; rows: number }> {
  const out = new Map<string, { ms: number; rows: number }>();
  const add = (key: string, ms: number, rows: number) => {
    const cur = out.get(key) ?? { ms: 0, rows: 0 };
    out.set(key, { ms: cur.ms + ms, rows: Math.max(cur.rows, rows) });
  };
  for (const s of run.steps) {
    const load = s.step.startsWith("load ") || s.stage === "load"; // per file, and "quality"
    add(load ? s.step : s.stage, s.ms, s.rows);
    if (!load && s.step !== s.stage) add(`${s.stage}: ${s.step}`, s.ms, s.rows);
  }
  return out;
}

const sec = (ms: number | undefined) => (ms === undefined ? "—" : (ms / 1000).toFixed(2));
const int = (n: number) => Math.round(n).toLocaleString("en-US");
const table = (head: string[], body: string[][]) =>
  [head, head.map((_, i) => (i === 0 ? "---" : "---:")), ...body].map((r) => `| ${r.join(" | ")} |`).join("\n");
/** "n/a" when /usr/bin/time gave nothing (the VmHWM fallback), else `f` of the fields. */
const na = (t: TimeFields | undefined, f: (t: TimeFields) => string) => (t ? f(t) : "n/a");
const cpuS = (t: TimeFields) => t.userS + t.sysS;
const times = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(2)}x` : "—");

/** The run of the baseline with the same worker count as candidate run `x` (none for DuckDB and baseline rows). */
const baselineOf = (runs: RunRecord[], x: RunRecord) =>
  x.kind === "ours" ? runs.find((b) => b.kind === "baseline" && b.workers === x.workers) : undefined;

/** One row per configuration: the process-level numbers of its (median) run and its wall time ratios. */
export function summaryTable(runs: RunRecord[]): string {
  const duck = runs.find((x) => x.kind === "duckdb");
  const head = [
    "configuration",
    "wall s",
    "user s",
    "sys s",
    "sys %",
    "minor faults",
    "major faults",
    "peak RSS MiB",
    "other processes' cores",
    "ratio to DuckDB",
    "ratio to baseline",
  ];
  const body = runs.map((x) => {
    const base = baselineOf(runs, x);
    return [
      x.label,
      sec(x.wallMs),
      na(x.time, (t) => t.userS.toFixed(2)),
      na(x.time, (t) => t.sysS.toFixed(2)),
      na(x.time, (t) => (cpuS(t) > 0 ? `${((100 * t.sysS) / cpuS(t)).toFixed(1)}%` : "—")),
      na(x.time, (t) => int(t.minorFaults)),
      na(x.time, (t) => int(t.majorFaults)),
      int(x.peakMiB),
      x.otherCores === undefined ? "n/a" : x.otherCores.toFixed(2),
      duck && x !== duck ? times(x.wallMs, duck.wallMs) : "—",
      base ? times(x.wallMs, base.wallMs) : "—",
    ];
  });
  return table(head, body);
}

/** Per worker count: candidate / baseline wall and CPU, and whether their outputs matched. */
export function baselineTable(runs: RunRecord[], comparisons: Comparison[]): string {
  const body = runs
    .filter((x) => x.kind === "ours")
    .flatMap((x) => {
      const base = baselineOf(runs, x);
      if (!base) return [];
      const c = comparisons.find(
        (c) => c.left.endsWith(`/baseline-w${x.workers}`) && c.right.endsWith(`/ours-w${x.workers}`),
      );
      return [
        [
          String(x.workers),
          sec(base.wallMs),
          sec(x.wallMs),
          `**${times(x.wallMs, base.wallMs)}**`,
          na(base.time, (t) => cpuS(t).toFixed(2)),
          na(x.time, (t) => cpuS(t).toFixed(2)),
          x.time && base.time ? `**${times(cpuS(x.time), cpuS(base.time))}**` : "n/a",
          times(x.peakMiB, base.peakMiB),
          !c ? "—" : c.differences.length === 0 ? "identical" : `MISMATCH (${c.differences.length})`,
        ],
      ];
    });
  return table(
    [
      "workers",
      "baseline wall s",
      "candidate wall s",
      "wall ratio",
      "baseline CPU s",
      "candidate CPU s",
      "CPU ratio",
      "peak RSS ratio",
      "outputs (7 files)",
    ],
    body,
  );
}

/** Prints the report on stdout; true when every comparison matched. */
export function printReport(r: ReportInput): boolean {
  const per = r.runs.map(rowsOf);
  const keys = [...new Set(per.flatMap((m) => [...m.keys()]))].sort((a, b) => {
    const rank = (k: string) => ORDER.indexOf(k.split(": ")[0]!) * 100 + (k.includes(": ") ? 1 : 0);
    return rank(a) - rank(b);
  });
  const ours = r.runs.filter((x) => x.kind === "ours");
  const duck = r.runs.find((x) => x.kind === "duckdb");
  const inputRows = per[0]?.get("load purchases_raw.csv")?.rows ?? 0;
  const lines: string[] = [];
  lines.push(
    `Command: \`${r.command}\``,
    `Date: ${r.date}`,
    `Machine: ${r.machine}`,
    `Pipeline${r.baseline ? " (candidate)" : ""}: ${r.source}`,
    ...(r.baseline ? [`Baseline: ${r.baseline} (same worker counts, interleaved with the candidate's runs)`] : []),
    `Data: ${r.data} (${int(inputRows)} rows in purchases_raw.csv)`,
  );
  const n = r.allRuns[0]?.length ?? 1;
  if (n > 1)
    lines.push(
      `Runs: ${n} per configuration; every number of a configuration comes from its median run by wall time (all walls: ${r.allRuns.map((rs) => `${rs[0]!.label} ${rs.map((x) => sec(x.wallMs)).join("/")}`).join("; ")} s)`,
    );
  lines.push("", summaryTable(r.runs), "");
  if (r.baseline)
    lines.push(
      "Candidate / baseline per worker count (below 1x: the candidate is faster, or uses less CPU; CPU = user + sys):",
      "",
      baselineTable(r.runs, r.comparisons),
      "",
    );
  const head = ["stage", "rows", ...r.runs.map((x) => `${x.label} (s)`), ...r.runs.map((x) => `${x.label} rows/s`)];
  const body = keys.map((k) => {
    const rows = per.map((m) => m.get(k)?.rows ?? 0).find((v) => v > 0) ?? 0;
    const label = k.includes(": ") ? `&nbsp;&nbsp;↳ ${k.split(": ")[1]}` : k;
    return [
      label,
      rows ? int(rows) : "",
      ...per.map((m) => sec(m.get(k)?.ms)),
      ...per.map((m) => {
        const v = m.get(k);
        return v?.rows && v.ms > 0 ? int(v.rows / (v.ms / 1000)) : "—";
      }),
    ];
  });
  body.push([
    "**process wall time**",
    int(inputRows),
    ...r.runs.map((x) => `**${sec(x.wallMs)}**`),
    ...r.runs.map((x) => int(inputRows / (x.wallMs / 1000))),
  ]);
  const inProcess = (x: RunRecord) => {
    const m = / \(([\d.]+) s\)$/.exec(x.summary);
    return m ? Number(m[1]) * 1000 : x.steps.reduce((t, s) => t + s.ms, 0);
  };
  body.push(["pipeline time in process", "", ...r.runs.map((x) => sec(inProcess(x))), ...r.runs.map(() => "")]);
  lines.push(table(head, body), "");
  lines.push(
    "Our loads run in parallel on the pool (their times overlap); DuckDB runs its stages one after another, each on all its threads.",
  );
  if (duck?.rounds !== undefined) lines.push(`DuckDB's greedy matching took ${duck.rounds} rounds.`);
  if (duck) {
    lines.push(
      "",
      table(
        ["ours / DuckDB", "wall time ratio", "peak RSS ratio", "SPEC §5 (<= 2x)"],
        ours.map((x) => {
          const ratio = x.wallMs / duck.wallMs;
          return [
            x.label,
            `${ratio.toFixed(2)}x`,
            `${(x.peakMiB / duck.peakMiB).toFixed(2)}x`,
            ratio <= 2 ? "met" : "NOT met",
          ];
        }),
      ),
    );
  }
  const slow = ours[0]
    ? [...rowsOf(ours[0]).entries()]
        .filter(([k]) => !k.includes(": "))
        .sort((a, b) => b[1].ms - a[1].ms)
        .slice(0, 4)
    : [];
  if (slow.length)
    lines.push("", `Slowest stages (${ours[0]!.label}): ${slow.map(([k, v]) => `${k} ${sec(v.ms)} s`).join(", ")}.`);
  if (ours[0]?.summary) lines.push("", "Our summary line: `" + ours[0].summary.replace(/ out=\S+/, "") + "`");
  lines.push("");
  let ok = true;
  for (const c of r.comparisons) {
    const name = `${c.left.split("/").pop()} vs ${c.right.split("/").pop()}`;
    if (c.differences.length === 0) lines.push(`MATCH: ${name}: ${c.files.join(", ")} identical`);
    else {
      ok = false;
      lines.push(
        `!!!!!!!! MISMATCH: ${name}: ${c.differences.length} difference(s) !!!!!!!!`,
        ...c.differences.slice(0, 20).map((d) => `  - ${d}`),
      );
    }
  }
  if (r.keptOutputs) lines.push(`Outputs kept in ${r.keptOutputs}`);
  process.stdout.write(lines.join("\n") + "\n");
  return ok;
}
