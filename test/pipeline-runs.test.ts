/**
 * pipeline_runs: GET /pipeline/runs (newest first, keyset pages, admin), runs left 'running' by a
 * dead process marked failed at the next start, the pipeline gauges of /metrics, and CLI runs
 * recorded under the same one-run lock (DATABASE_URL=postgres://).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { spawnSync } from "bun";
import postgres from "postgres";
import { rawQuery } from "../src/db/client";
import { RUN_LOCK_KEY } from "../src/modules/pipeline/lock";
import { finishRun, insertRun } from "../src/modules/pipeline/repository";
import { closePipelineThread, recoverRuns } from "../src/modules/pipeline/service";
import { call } from "./helpers";
import { cleanup, dataset, SAMPLE_DIR } from "./pipeline/helpers";

afterAll(async () => {
  await closePipelineThread();
  cleanup();
});

const ROOT = join(import.meta.dir, "..");

/** Runs left by "another process": rows written straight to the table. */
async function fakeRun(status: "running" | "succeeded" | "failed", trigger: "http" | "cli" = "cli") {
  const id = crypto.randomUUID();
  await insertRun(rawQuery, { id, trigger, instance: "elsewhere:1" });
  if (status !== "running")
    await finishRun(rawQuery, id, {
      status,
      stages: [{ name: "load", ms: 1.5, rows: 3 }],
      summary: status === "succeeded" ? { curated: 3 } : null,
      errors: status === "failed" ? [{ code: "bad_input", message: "x" }] : [],
    });
  return id;
}

async function waitForRun(runId: string) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const response = await call("GET", `/pipeline/runs/${runId}`);
    if (response.json.status !== "running") return response.json;
    await Bun.sleep(100);
  }
  throw new Error("run did not finish");
}

describe("GET /pipeline/runs", () => {
  test("newest first in keyset pages, each run with trigger, times, stages and summary or errors", async () => {
    const ids = [await fakeRun("succeeded"), await fakeRun("failed", "http"), await fakeRun("succeeded", "http")];
    const first = await call("GET", "/pipeline/runs?limit=2");
    expect(first.status).toBe(200);
    expect(first.json.runs.map((r: any) => r.runId)).toEqual([ids[2], ids[1]]);
    expect(first.json.runs[1]).toMatchObject({
      trigger: "http",
      status: "failed",
      summary: null,
      errors: [{ code: "bad_input", message: "x" }],
      stages: [{ name: "load", ms: 1.5, rows: 3 }],
    });
    expect(Date.parse(first.json.runs[0].finishedAt)).toBeGreaterThanOrEqual(Date.parse(first.json.runs[0].startedAt));
    const second = await call("GET", `/pipeline/runs?limit=2&cursor=${first.json.nextCursor}`);
    expect(second.json.runs[0]).toMatchObject({
      runId: ids[0],
      trigger: "cli",
      status: "succeeded",
      summary: { curated: 3 },
    });
  });

  test("bad limit or cursor: 422", async () => {
    for (const query of ["limit=0", "limit=101", "limit=abc", "cursor=-1", "cursor=1e3"]) {
      const response = await call("GET", `/pipeline/runs?${query}`);
      expect(response.status).toBe(422);
      expect(response.json.error.code).toBe("validation_error");
    }
    expect((await call("GET", "/pipeline/runs?cursor=x")).json.error.details.field).toBe("cursor");
  });
});

describe("runs left 'running' by a process that died", () => {
  test("are marked failed at start-up, or by the next run start; the run then updates the gauges", async () => {
    // start-up: the lock is free, so no process is running the row's run
    const orphan = await fakeRun("running");
    expect(await recoverRuns()).toEqual([orphan]);
    const row = (await call("GET", `/pipeline/runs/${orphan}`)).json;
    expect(row).toMatchObject({ status: "failed", errors: [{ code: "interrupted" }] });
    expect(row.finishedAt).not.toBeNull();

    // a run start: whoever takes the lock knows a row still 'running' is a dead process's
    const another = await fakeRun("running");
    const started = await call("POST", "/run-pipeline");
    expect(started.status).toBe(202);
    expect((await call("GET", `/pipeline/runs/${another}`)).json).toMatchObject({
      status: "failed",
      errors: [{ code: "interrupted" }],
    });
    const inProgress = (await call("GET", "/metrics")).text;
    expect(inProgress).toMatch(/^pipeline_run_in_progress_seconds \d/m);
    const done = await waitForRun(started.json.runId);
    expect(done).toMatchObject({ trigger: "http", status: "succeeded" });
    await Bun.sleep(2100); // the gauges cache the table for 2 s
    const metrics = (await call("GET", "/metrics")).text;
    expect(metrics).toMatch(/^pipeline_last_run_success 1$/m);
    expect(metrics).toMatch(/^pipeline_run_in_progress_seconds 0$/m);
    const duration = Number(/^pipeline_last_run_duration_seconds (\S+)$/m.exec(metrics)![1]);
    expect(duration).toBeGreaterThan(0);
    expect(duration).toBeLessThan(60);
    const endedAt = Number(/^pipeline_last_run_end_timestamp_seconds (\S+)$/m.exec(metrics)![1]);
    expect(Math.abs(endedAt - Date.parse(done.finishedAt) / 1000)).toBeLessThan(1);
  }, 120_000);
});

describe.skipIf(!(process.env.DATABASE_URL ?? "").startsWith("postgres"))("CLI runs on PostgreSQL", () => {
  const cli = (out: string) =>
    spawnSync({
      cmd: [process.execPath, "src/pipeline/cli.ts", "--data-dir", SAMPLE_DIR, "--out-dir", out, "--workers", "2"],
      cwd: ROOT,
      env: process.env as Record<string, string>,
      timeout: 120_000,
    });

  test("are recorded with trigger cli, the same run as run.json", async () => {
    const ds = dataset();
    const run = cli(ds.out);
    expect(run.exitCode).toBe(0);
    const written = JSON.parse(await Bun.file(join(ds.out, "run.json")).text());
    const stored = (await call("GET", `/pipeline/runs/${written.runId}`)).json;
    expect(stored).toMatchObject({
      runId: written.runId,
      trigger: "cli",
      status: "succeeded",
      finishedAt: written.finishedAt,
    });
    expect(stored.stages).toEqual(written.stages);
  }, 120_000);

  test("refuse to start while another process holds the run lock (exit 1, naming it)", async () => {
    const holder = postgres(process.env.DATABASE_URL!, { max: 1, onnotice: () => {} });
    try {
      await holder`select pg_advisory_lock(${RUN_LOCK_KEY})`;
      const ds = dataset();
      const run = cli(ds.out);
      expect(run.exitCode).toBe(1);
      expect(run.stderr.toString()).toContain("another pipeline run is in progress");
      expect((await call("POST", "/run-pipeline")).status).toBe(409);
    } finally {
      await holder.end();
    }
  }, 120_000);
});
