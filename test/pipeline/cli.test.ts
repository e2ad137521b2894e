/** main / parseCli: the `bun src/pipeline/cli.ts` process end to end: exit codes, stdout summary, stderr progress, outputs. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseCli, UsageError } from "../../src/pipeline/cli.ts";
import { OUTPUT_FILES } from "../../src/pipeline/run.ts";
import { cleanup, dataset, SAMPLE_DIR } from "./helpers.ts";

afterAll(cleanup);

const CLI = join(import.meta.dir, "..", "..", "src", "pipeline", "cli.ts");

function cli(args: string[]) {
  const p = Bun.spawnSync([process.execPath, CLI, ...args], {
    env: { ...process.env, SOURCE_DATE_EPOCH: "1735689600" },
  });
  return { code: p.exitCode, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
}

describe("parseCli", () => {
  test("defaults and values", () => {
    expect(parseCli([])).toMatchObject({
      dataDir: "data",
      outDir: "reports",
      toleranceMin: 10,
      asOf: undefined,
      help: false,
    });
    expect(
      parseCli(["--data-dir", "d", "--out-dir=o", "--as-of", "2025-01-02", "--tolerance-min", "2.5", "--workers", "3"]),
    ).toMatchObject({
      dataDir: "d",
      outDir: "o",
      asOf: "2025-01-02",
      toleranceMin: 2.5,
      workers: 3,
    });
  });
  const bad = [
    ["--bogus"],
    ["--workers", "0"],
    ["--workers", "two"],
    ["--tolerance-min", "-1"],
    ["--as-of", "01/02/2025"],
    ["positional"],
    ["--data-dir", ""],
  ];
  for (const args of bad) {
    test(`${args.join(" ")} is a usage error`, () => {
      expect(() => parseCli(args)).toThrow(UsageError);
    });
  }
});

test("a run on the sample: exit 0, one summary line on stdout, stage lines on stderr, seven outputs and run.json", () => {
  const ds = dataset();
  const r = cli(["--data-dir", SAMPLE_DIR, "--out-dir", ds.out, "--workers", "2"]);
  expect(r.code).toBe(0);
  expect(r.stdout.trimEnd().split("\n")).toHaveLength(1);
  expect(r.stdout).toMatch(/^pipeline ok: as_of=2025-03-10 d1=2025-03-09 curated=\d+ matched=\d+ /);
  for (const stage of ["load purchases_raw.csv", "load sessions.csv", "dedupe", "reconcile", "write"])
    expect(r.stderr).toMatch(new RegExp(`${stage}\\s+[\\d,]+ rows .* rows/s`));
  expect(readdirSync(ds.out).sort()).toEqual([...OUTPUT_FILES, "run.json"].sort());
  const run = JSON.parse(readFileSync(join(ds.out, "run.json"), "utf8"));
  expect(run).toMatchObject({ trigger: "cli", status: "succeeded", errors: [], summary: { asOf: "2025-03-10" } });
  expect(run.stages.map((s: { name: string }) => s.name)).toContain("reconcile");
  const html = readFileSync(join(ds.out, "index.html"), "utf8");
  expect(html).toMatch(/<html/i);
});

test("bad input: exit 2 naming the file, previous reports untouched", () => {
  const ds = dataset({ "costs_daily.csv": "date,campaign\n2025-01-01,A\n" });
  mkdirSync(ds.out, { recursive: true });
  writeFileSync(join(ds.out, "roas_d1.json"), "previous");
  const r = cli(["--data-dir", ds.data, "--out-dir", ds.out]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain("costs_daily.csv, line 1, column ad_cost_usd: missing required column");
  expect(r.stdout).toBe("");
  expect(readFileSync(join(ds.out, "roas_d1.json"), "utf8")).toBe("previous");
  expect(readdirSync(ds.out)).toEqual(["roas_d1.json"]);

  const missing = cli(["--data-dir", join(ds.root, "nowhere"), "--out-dir", ds.out]);
  expect(missing.code).toBe(2);
  expect(missing.stderr).toContain("purchases_raw.csv: file not found");
});

test("bad flag: exit 2 with the usage line", () => {
  const r = cli(["--workers", "0"]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain("--workers must be an integer");
  expect(r.stderr).toContain("usage: bun run pipeline");
  const unknown = cli(["--frobnicate"]);
  expect(unknown.code).toBe(2);
  expect(unknown.stderr).toContain("frobnicate");
});
