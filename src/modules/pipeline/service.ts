/**
 * Pipeline runs started over HTTP: one at a time across every instance sharing the database (the
 * run lock, lock.ts), in a thread of their own (workers/orchestrator.ts) that owns the Piscina
 * pool, so no stage of a run blocks the server's event loop. Every run is a pipeline_runs row,
 * readable from any instance.
 */
import { Worker } from "node:worker_threads";
import { config } from "../../config";
import { rawQuery } from "../../db/client";
import { ConflictError, NotFoundError } from "../../errors";
import { log } from "../../logger";
import { pipelineRunsFinished, registerPipelineGauges } from "../../metrics";
import { PipelineInputError } from "../../pipeline/errors";
import type { OrchestratorData, OrchestratorEvent, OrchestratorRequest } from "../../pipeline/messages";
import { type RunLock, recoverInterruptedRuns, tryRunLock } from "./lock";
import type { RunView } from "./model";
import {
  failInterruptedRuns,
  findRun,
  finishRun,
  INSTANCE,
  insertRun,
  listRuns,
  pipelineState,
  type RunError,
  runningRunId,
  saveStages,
  type Trigger,
} from "./repository";
import { writeRunJson } from "./run-json";

const ORCHESTRATOR_FILE = new URL("../../../workers/orchestrator.ts", import.meta.url);

interface CurrentRun {
  view: RunView & { trigger: Trigger };
  lock: RunLock;
  /** stage writes in order, so the final write lands after them */
  writes: Promise<unknown>;
}

let current: CurrentRun | undefined;
let thread: Worker | undefined;
let closed: (() => void) | undefined;

registerPipelineGauges(() => pipelineState(rawQuery));

/** The pipeline thread and its pool, started on first use (src/index.ts starts it at start-up). */
export function startPipelineThread(): Worker {
  if (thread) return thread;
  const worker = new Worker(ORCHESTRATOR_FILE, {
    workerData: { workers: config.pipelineWorkers } satisfies OrchestratorData,
  });
  worker.unref(); // the HTTP server keeps the process alive, not this thread
  worker.on("message", (event: OrchestratorEvent) => onEvent(event));
  // a thread that dies (an error, an exit nobody asked for) fails its run; the next run starts a new one
  const lost = (reason: string) => {
    if (thread !== worker) return; // closed on purpose, or already handled
    thread = undefined;
    log("error", "pipeline thread stopped", { error: reason });
    if (current) void finish(current, { code: "internal_error", message: "the pipeline failed unexpectedly" });
  };
  worker.on("error", (error) => lost(String((error as Error)?.stack ?? error)));
  worker.on("exit", (code) => lost(`exit code ${code}`));
  thread = worker;
  return worker;
}

/** Stops the thread and its pool (waits up to 5 s for the pool to close); a run in progress is recorded as failed. */
export async function closePipelineThread(): Promise<void> {
  const worker = thread;
  if (!worker) return;
  thread = undefined;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 5000);
    closed = () => {
      clearTimeout(timer);
      resolve();
    };
    worker.postMessage({ type: "close" } satisfies OrchestratorRequest);
  });
  await worker.terminate();
  if (current) await finish(current, { code: "interrupted", message: "the server shut down during the run" });
}

/** Marks failed the runs a dead process left 'running' (start-up; see lock.ts). */
export async function recoverRuns(): Promise<string[]> {
  const ids = await recoverInterruptedRuns(failInterruptedRuns);
  if (ids.length > 0) log("warn", "pipeline runs interrupted by a stopped process marked failed", { runIds: ids });
  return ids;
}

const running = (runId: string | undefined) =>
  new ConflictError(
    "pipeline_running",
    "a pipeline run is already in progress",
    runId === undefined ? undefined : { runId },
  );

/** Starts a run in the background; a second start while one runs, on any instance, is a 409. */
export async function startRun(): Promise<RunView> {
  if (current) throw running(current.view.runId);
  const lock = await tryRunLock();
  if (!lock) throw running(await runningRunId(rawQuery));
  let view: CurrentRun["view"];
  try {
    const interrupted = await failInterruptedRuns(rawQuery);
    if (interrupted.length > 0)
      log("warn", "pipeline runs interrupted by a stopped process marked failed", { runIds: interrupted });
    view = await insertRun(rawQuery, { id: crypto.randomUUID(), trigger: "http", instance: INSTANCE });
  } catch (error) {
    await lock.release(async () => {});
    throw error;
  }
  current = { view, lock, writes: Promise.resolve() };
  startPipelineThread().postMessage({
    type: "run",
    runId: view.runId,
    dataDir: config.dataDir,
    outDir: config.reportsDir,
    toleranceMin: 10,
  } satisfies OrchestratorRequest);
  return view;
}

function onEvent(event: OrchestratorEvent): void {
  if (event.type === "closed") {
    closed?.();
    return;
  }
  const run = current;
  if (!run || run.view.runId !== event.runId) return;
  switch (event.type) {
    case "stage": {
      run.view.stages.push({ name: event.name, ms: 0, rows: event.rows });
      const stages = [...run.view.stages];
      run.writes = run.writes
        .then(() => saveStages(rawQuery, run.view.runId, stages))
        .catch((error) => log("warn", "pipeline run: stage not recorded", { error: String(error) }));
      return;
    }
    case "succeeded":
      run.view.stages = event.result.stages.map((s) => ({
        name: s.name,
        ms: Math.round(s.ms * 10) / 10,
        rows: s.rows,
      }));
      run.view.summary = { ...event.result.summary };
      log("info", "pipeline run succeeded", { runId: run.view.runId, ms: event.result.summary.ms });
      void finish(run);
      return;
    case "failed": {
      const bad = event.badInput ? PipelineInputError.fromJSON(event.badInput) : undefined;
      log(bad ? "warn" : "error", "pipeline run failed", {
        runId: run.view.runId,
        error: bad?.message ?? event.message,
      });
      void finish(
        run,
        bad
          ? { code: "bad_input", message: bad.message }
          : { code: "internal_error", message: "the pipeline failed unexpectedly" },
      );
      return;
    }
  }
}

/** Records the end of the run and frees the lock in one transaction; a success also writes run.json beside the reports. */
async function finish(run: CurrentRun, error?: RunError): Promise<void> {
  if (current !== run) return;
  current = undefined; // the lock itself keeps refusing new runs until the release below commits
  const view = run.view;
  if (error) view.errors.push(error);
  view.status = error ? "failed" : "succeeded";
  await run.writes;
  await run.lock.release(async (query) => {
    const saved = await finishRun(query, view.runId, {
      status: view.status as "succeeded" | "failed",
      stages: view.stages,
      summary: view.summary,
      errors: view.errors,
    });
    view.finishedAt = saved?.finishedAt ?? new Date().toISOString();
  });
  pipelineRunsFinished.inc({ trigger: "http", status: view.status });
  if (!error)
    await writeRunJson(config.reportsDir, view).catch((e) => log("warn", "run.json not written", { error: String(e) }));
}

export async function getRun(runId: string): Promise<RunView> {
  const run = await findRun(rawQuery, runId);
  if (!run) throw new NotFoundError(`no pipeline run ${runId}`);
  return run;
}

export function getRuns(limit: number, cursor?: string) {
  return listRuns(rawQuery, limit, cursor === undefined ? undefined : Number(cursor));
}
