/**
 * Pipeline runs started over HTTP: one at a time, in a thread of their own (workers/orchestrator.ts)
 * that owns the Piscina pool, so no stage of a run blocks the server's event loop.
 */
import { Worker } from "node:worker_threads";
import { config } from "../../config";
import { ConflictError, NotFoundError } from "../../errors";
import { log } from "../../logger";
import { PipelineInputError } from "../../pipeline/errors";
import type { OrchestratorData, OrchestratorEvent, OrchestratorRequest } from "../../pipeline/messages";
import type { RunView } from "./model";

const KEPT_RUNS = 50;
const ORCHESTRATOR_FILE = new URL("../../../workers/orchestrator.ts", import.meta.url);
const runs = new Map<string, RunView>();
let current: string | undefined;
let thread: Worker | undefined;
let closed: (() => void) | undefined;

/** The pipeline thread and its pool, started on first use (src/index.ts starts it at start-up). */
export function startPipelineThread(): Worker {
  if (thread) return thread;
  const worker = new Worker(ORCHESTRATOR_FILE, { workerData: { workers: config.pipelineWorkers } satisfies OrchestratorData });
  worker.unref(); // the HTTP server keeps the process alive, not this thread
  worker.on("message", (event: OrchestratorEvent) => onEvent(event));
  // a thread that dies (an error, an exit nobody asked for) fails its run; the next run starts a new one
  const lost = (reason: string) => {
    if (thread !== worker) return; // closed on purpose, or already handled
    thread = undefined;
    log("error", "pipeline thread stopped", { error: reason });
    if (current) finish(runs.get(current)!, { code: "internal_error", message: "the pipeline failed unexpectedly" });
  };
  worker.on("error", (error) => lost(String((error as Error)?.stack ?? error)));
  worker.on("exit", (code) => lost(`exit code ${code}`));
  thread = worker;
  return worker;
}

/** Stops the thread and its pool (waits up to 5 s for the pool to close). */
export async function closePipelineThread(): Promise<void> {
  const worker = thread;
  if (!worker) return;
  thread = undefined;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 5000);
    closed = () => (clearTimeout(timer), resolve());
    worker.postMessage({ type: "close" } satisfies OrchestratorRequest);
  });
  await worker.terminate();
}

/** Starts a run in the background; a second start while one runs is a 409. */
export function startRun(): RunView {
  if (current !== undefined) throw new ConflictError("pipeline_running", "a pipeline run is already in progress", { runId: current });
  const run: RunView = { runId: crypto.randomUUID(), status: "running", startedAt: new Date().toISOString(), finishedAt: null, stages: [], summary: null, errors: [] };
  runs.set(run.runId, run);
  current = run.runId;
  for (const old of runs.keys()) if (runs.size > KEPT_RUNS) runs.delete(old);
  startPipelineThread().postMessage({ type: "run", runId: run.runId, dataDir: config.dataDir, outDir: config.reportsDir, toleranceMin: 10 } satisfies OrchestratorRequest);
  return run;
}

function onEvent(event: OrchestratorEvent): void {
  if (event.type === "closed") return closed?.();
  const run = runs.get(event.runId);
  if (!run || run.status !== "running") return;
  switch (event.type) {
    case "stage":
      run.stages.push({ name: event.name, ms: 0, rows: event.rows });
      return;
    case "succeeded":
      run.stages = event.result.stages.map((s) => ({ name: s.name, ms: Math.round(s.ms * 10) / 10, rows: s.rows }));
      run.summary = { ...event.result.summary };
      log("info", "pipeline run succeeded", { runId: run.runId, ms: event.result.summary.ms });
      return finish(run);
    case "failed": {
      const bad = event.badInput ? PipelineInputError.fromJSON(event.badInput) : undefined;
      log(bad ? "warn" : "error", "pipeline run failed", { runId: run.runId, error: bad?.message ?? event.message });
      return finish(run, bad ? { code: "bad_input", message: bad.message } : { code: "internal_error", message: "the pipeline failed unexpectedly" });
    }
  }
}

function finish(run: RunView, error?: { code: string; message: string }): void {
  if (error) run.errors.push(error);
  run.status = error ? "failed" : "succeeded";
  run.finishedAt = new Date().toISOString();
  if (current === run.runId) current = undefined;
}

export function getRun(runId: string): RunView {
  const run = runs.get(runId);
  if (!run) throw new NotFoundError(`no pipeline run ${runId}`);
  return run;
}
