/** Pipeline runs started over HTTP: one at a time, on the server's shared Piscina pool. */
import type Piscina from "piscina";
import { config } from "../../config";
import { ConflictError, NotFoundError } from "../../errors";
import { log } from "../../logger";
import { PipelineInputError } from "../../pipeline/errors";
import { createPipelinePool, runPipeline } from "../../pipeline/run";
import type { RunView } from "./model";

const KEPT_RUNS = 50;
const runs = new Map<string, RunView>();
let current: string | undefined;
let pool: Piscina | undefined;

/** The shared worker pool, created on first use (src/index.ts creates it at start-up). */
export function pipelinePool(): Piscina {
  pool ??= createPipelinePool(config.pipelineWorkers);
  return pool;
}

export async function closePipelinePool(): Promise<void> {
  await pool?.destroy();
  pool = undefined;
}

/** Starts a run in the background; a second start while one runs is a 409. */
export function startRun(): RunView {
  if (current !== undefined) throw new ConflictError("pipeline_running", "a pipeline run is already in progress", { runId: current });
  const run: RunView = { runId: crypto.randomUUID(), status: "running", startedAt: new Date().toISOString(), finishedAt: null, stages: [], summary: null, errors: [] };
  runs.set(run.runId, run);
  current = run.runId;
  for (const old of runs.keys()) if (runs.size > KEPT_RUNS) runs.delete(old);
  void execute(run);
  return run;
}

async function execute(run: RunView): Promise<void> {
  try {
    const result = await runPipeline({
      dataDir: config.dataDir,
      outDir: config.reportsDir,
      toleranceMin: 10,
      workers: config.pipelineWorkers,
      pool: pipelinePool(),
      onProgress: (name, rows, _rate, info) => {
        if (info?.done) run.stages.push({ name, ms: 0, rows });
      },
    });
    run.stages = result.stages.map((s) => ({ name: s.name, ms: Math.round(s.ms * 10) / 10, rows: s.rows }));
    run.summary = { ...result.summary };
    run.status = "succeeded";
    log("info", "pipeline run succeeded", { runId: run.runId, ms: result.summary.ms });
  } catch (error) {
    const badInput = error instanceof PipelineInputError;
    run.errors.push({ code: badInput ? "bad_input" : "internal_error", message: badInput ? error.message : "the pipeline failed unexpectedly" });
    run.status = "failed";
    log(badInput ? "warn" : "error", "pipeline run failed", { runId: run.runId, error: String((error as Error)?.stack ?? error) });
  } finally {
    run.finishedAt = new Date().toISOString();
    current = undefined;
  }
}

export function getRun(runId: string): RunView {
  const run = runs.get(runId);
  if (!run) throw new NotFoundError(`no pipeline run ${runId}`);
  return run;
}
