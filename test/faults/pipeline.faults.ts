/** A pipeline run killed halfway (SIGKILL) leaves the previous reports intact, and the next run succeeds. */
import { afterAll, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const work = mkdtempSync(join(tmpdir(), "pipeline-kill-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const digest = (dir: string) =>
  Object.fromEntries(
    readdirSync(dir)
      .sort()
      .map((name) => [
        name,
        createHash("sha256")
          .update(readFileSync(join(dir, name)))
          .digest("hex"),
      ]),
  );

function pipeline(dataDir: string, outDir: string, asOf: string) {
  return Bun.spawn({
    cmd: [
      process.execPath,
      "src/pipeline/cli.ts",
      "--data-dir",
      dataDir,
      "--out-dir",
      outDir,
      "--as-of",
      asOf,
      "--workers",
      "2",
    ],
    stdout: "pipe",
    stderr: "pipe",
  });
}

test("SIGKILL halfway through a run: previous reports untouched, next run succeeds", async () => {
  const data = join(work, "data");
  const reports = join(work, "reports");
  const generated = Bun.spawnSync({
    cmd: [process.execPath, "scripts/gen-data.ts", "--out", data, "--purchases", "300000", "--seed", "11", "--quiet"],
  });
  expect(generated.exitCode).toBe(0);

  const first = pipeline(data, reports, "2025-06-30");
  expect(await first.exited).toBe(0);
  const before = digest(reports);
  expect(Object.keys(before)).toHaveLength(8); // seven reports and run.json

  const started = performance.now();
  const timing = pipeline(data, join(work, "timing"), "2025-06-29");
  expect(await timing.exited).toBe(0);
  const fullMs = performance.now() - started;

  // a different as-of date, so a completed run would have changed the reports
  const victim = pipeline(data, reports, "2025-06-29");
  await Bun.sleep(fullMs / 2);
  victim.kill("SIGKILL");
  expect(await victim.exited).not.toBe(0);
  expect(digest(reports)).toEqual(before);

  const next = pipeline(data, reports, "2025-06-29");
  expect(await next.exited).toBe(0);
  expect(digest(reports)).not.toEqual(before);
  expect(JSON.parse(readFileSync(join(reports, "roas_d1.json"), "utf8"))[0].date).toBe("2025-06-28");
  console.log(
    `RELIABILITY | 5 pipeline killed | 300,000 purchases, --workers 2 | SIGKILL at ${Math.round(fullMs / 2)} ms of a ${Math.round(fullMs)} ms run | previous reports intact, next run succeeds | 7 report files byte-identical after the kill; next run exit 0 with the new D-1 |`,
  );
}, 300_000);
