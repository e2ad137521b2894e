/**
 * What crosses a thread boundary: the inputs and results of the pool's tasks (workers/pipeline.ts)
 * and the messages of the API's pipeline thread (workers/orchestrator.ts). The types live here,
 * in src/, so workers/ depends on src/ and never the reverse.
 */
import type { PipelineInputErrorData } from "./errors.ts";
import type { Segment } from "./read/segment.ts";
import type { RunResult } from "./run.ts";
import type { FileKind } from "./tables.ts";

/** Task `loadWhole`: read a whole input file through papaparse (files the fast reader does not take). */
export interface WholeTask {
  kind: FileKind;
  path: string;
  onlyDay?: number;
}

/** Bad input comes back as data: class identity does not survive the worker boundary. */
export type WholeTaskResult = { ok: true; segment: Segment } | { ok: false; error: PipelineInputErrorData };

/** What the server asks the pipeline thread: run the pipeline with these options, or shut the pool down. */
export type OrchestratorRequest =
  | { type: "run"; runId: string; dataDir: string; outDir: string; toleranceMin: number }
  | { type: "close" };

/** What the pipeline thread reports: a finished stage, the result, a failure, or that it closed. */
export type OrchestratorEvent =
  | { type: "stage"; runId: string; name: string; rows: number }
  | { type: "succeeded"; runId: string; result: Pick<RunResult, "summary" | "stages"> }
  | { type: "failed"; runId: string; badInput: PipelineInputErrorData | null; message: string }
  | { type: "closed" };

/** workerData of the pipeline thread. */
export interface OrchestratorData {
  /** threads of the Piscina pool (1..MAX_WORKERS) */
  workers: number;
}
