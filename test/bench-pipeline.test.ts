// bun run bench:pipeline's own logic, without running a benchmark: arguments, the order of the
// runs, /usr/bin/time's fields, and the summary tables built from the median runs.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { parseArgs } from "../bench/pipeline";
import type { Comparison } from "../bench/pipeline-compare";
import { parseTimeOutput, type TimeFields } from "../bench/pipeline-measure";
import { baselineTable, type RunRecord, summaryTable } from "../bench/pipeline-report";
import { median, outName, schedule } from "../bench/pipeline-runs";

const SCRIPT = join(import.meta.dir, "..", "bench", "pipeline.ts");

/** The benchmark script as a child: only for argument errors and --help (it exits before any work). */
function cli(args: string[]) {
  const r = Bun.spawnSync([process.execPath, SCRIPT, ...args]);
  return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

const time = (userS: number, sysS: number, minorFaults = 1000, majorFaults = 0): TimeFields => ({
  elapsedS: 1,
  userS,
  sysS,
  minorFaults,
  majorFaults,
  maxRssKiB: 100 * 1024,
});

const run = (kind: RunRecord["kind"], workers: number, wallMs: number, t?: TimeFields): RunRecord => ({
  label: kind === "duckdb" ? "duckdb" : `${kind} --workers ${workers}`,
  kind,
  workers,
  wallMs,
  peakMiB: 100,
  time: t,
  otherCores: t ? 0.1 : undefined,
  steps: [],
  summary: "",
  outDir: `/tmp/x/${kind === "duckdb" ? "duckdb" : `${kind}-w${workers}`}`,
});

describe("bench:pipeline arguments", () => {
  test("defaults: no baseline, the working tree, one run", () => {
    const o = parseArgs([]);
    expect(o.baseline).toBeUndefined();
    expect(o.ref).toBeUndefined();
    expect(o.runs).toBe(1);
    expect(o.workers).toEqual([1, 2]);
  });

  test("--baseline, --ref, --runs and --workers", () => {
    const o = parseArgs(["--", "--baseline", "main~3", "--ref", "HEAD", "--runs", "3", "--workers", "1,2"]);
    expect(o).toMatchObject({ baseline: "main~3", ref: "HEAD", runs: 3, workers: [1, 2] });
  });

  test("bad usage exits 2 with the usage text; --help exits 0", () => {
    const missing = cli(["--baseline"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("--baseline needs a value");
    expect(missing.stderr).toContain("usage: bun run bench:pipeline");
    expect(cli(["--bogus"]).code).toBe(2);
    expect(cli(["--baseline", "--runs", "3"]).stderr).toContain("--baseline needs a git ref, not --runs");
    const help = cli(["--help"]);
    expect(help.code).toBe(0);
    for (const flag of ["--baseline REF", "--ref REF", "--runs N", "--purchases N", "--quiet-wait S"])
      expect(help.stdout).toContain(flag);
  });
});

describe("bench:pipeline runs", () => {
  test("baseline and candidate interleave per worker count, DuckDB last", () => {
    expect(schedule([1, 2], true).map(outName)).toEqual(["baseline-w1", "ours-w1", "baseline-w2", "ours-w2", "duckdb"]);
    expect(schedule([1, 2], false).map(outName)).toEqual(["ours-w1", "ours-w2", "duckdb"]);
  });

  test("/usr/bin/time's last line: wall, user, sys, minor and major faults, peak RSS", () => {
    expect(parseTimeOutput("Command exited with non-zero status 3\n0.52 0.40 0.10 25046 2 131072\n")).toEqual({
      elapsedS: 0.52,
      userS: 0.4,
      sysS: 0.1,
      minorFaults: 25046,
      majorFaults: 2,
      maxRssKiB: 131072,
    });
    expect(parseTimeOutput("Command terminated by signal 9\n")).toBeUndefined();
    expect(parseTimeOutput("")).toBeUndefined();
  });

  test("the median run gives every column of a configuration", () => {
    const runs = [run("ours", 1, 3000, time(3, 1)), run("ours", 1, 1000, time(9, 9)), run("ours", 1, 2000, time(1, 1))];
    const m = median(runs);
    expect(m.wallMs).toBe(2000);
    const row = summaryTable([m]).split("\n")[2]!;
    expect(row).toBe("| ours --workers 1 | 2.00 | 1.00 | 1.00 | 50.0% | 1,000 | 0 | 100 | 0.10 | — | — |");
  });
});

describe("bench:pipeline report", () => {
  const runs = [
    run("baseline", 1, 2000, time(1.5, 0.5)),
    run("ours", 1, 1000, time(0.75, 0.25)),
    run("duckdb", 0, 4000, time(3, 1, 500, 3)),
  ];

  test("summary: sys share, faults, ratios to DuckDB and to the baseline", () => {
    const lines = summaryTable(runs).split("\n");
    expect(lines[0]).toContain("| sys % | minor faults | major faults | peak RSS MiB |");
    expect(lines[2]).toBe("| baseline --workers 1 | 2.00 | 1.50 | 0.50 | 25.0% | 1,000 | 0 | 100 | 0.10 | 0.50x | — |");
    expect(lines[3]).toBe("| ours --workers 1 | 1.00 | 0.75 | 0.25 | 25.0% | 1,000 | 0 | 100 | 0.10 | 0.25x | 0.50x |");
    expect(lines[4]).toBe("| duckdb | 4.00 | 3.00 | 1.00 | 25.0% | 500 | 3 | 100 | 0.10 | — | — |");
  });

  test("without /usr/bin/time the CPU and fault columns read n/a", () => {
    const row = summaryTable([run("ours", 2, 1500)]).split("\n")[2]!;
    expect(row).toBe("| ours --workers 2 | 1.50 | n/a | n/a | n/a | n/a | n/a | 100 | n/a | — | — |");
  });

  test("candidate / baseline: wall and CPU ratios, and the outputs' verdict", () => {
    const mismatch: Comparison = {
      left: "/tmp/x/baseline-w1",
      right: "/tmp/x/ours-w1",
      files: [],
      differences: ["index.html: bytes differ"],
    };
    const row = baselineTable(runs, [mismatch]).split("\n")[2]!;
    expect(row).toBe("| 1 | 2.00 | 1.00 | **0.50x** | 2.00 | 1.00 | **0.50x** | 1.00x | MISMATCH (1) |");
    expect(baselineTable(runs, [{ ...mismatch, differences: [] }])).toContain("| identical |");
  });
});
