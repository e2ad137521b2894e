/**
 * The thread that runs the pipeline for the API server (not a Piscina task file): it owns the
 * Piscina pool and runs runPipeline, so the stages the orchestration does itself (filter, dedupe,
 * sort, ROAS) never block the server's event loop. Messages in: OrchestratorRequest; out:
 * OrchestratorEvent.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { Piscina } from "piscina";
import { PipelineInputError, type PipelineInputErrorData } from "../src/pipeline/errors.ts";
import { createPipelinePool, runPipeline, type RunResult } from "../src/pipeline/run.ts";

/** What the server asks: run the pipeline with these options, or shut the pool down. */
export type OrchestratorRequest =
  | { type: "run"; runId: string; dataDir: string; outDir: string; toleranceMin: number }
  | { type: "close" };

/** What the thread reports: a finished stage, the result, a failure, or that it closed. */
export type OrchestratorEvent =
  | { type: "stage"; runId: string; name: string; rows: number }
  | { type: "succeeded"; runId: string; result: Pick<RunResult, "summary" | "stages"> }
  | { type: "failed"; runId: string; badInput: PipelineInputErrorData | null; message: string }
  | { type: "closed" };

/** workerData of this thread. */
export interface OrchestratorData {
  /** threads of the Piscina pool (0: one per core) */
  workers: number;
}

const port = parentPort!;
const { workers } = workerData as OrchestratorData;
const pool: Piscina = createPipelinePool(workers);
const send = (event: OrchestratorEvent) => port.postMessage(event);

port.on("message", async (request: OrchestratorRequest) => {
  if (request.type === "close") {
    await pool.destroy();
    send({ type: "closed" });
    return;
  }
  const { runId } = request;
  try {
    const result = await runPipeline({
      dataDir: request.dataDir,
      outDir: request.outDir,
      toleranceMin: request.toleranceMin,
      workers,
      pool,
      onProgress: (name, rows, _rate, info) => {
        if (info?.done) send({ type: "stage", runId, name, rows });
      },
    });
    send({ type: "succeeded", runId, result: { summary: result.summary, stages: result.stages } });
  } catch (error) {
    const badInput = error instanceof PipelineInputError ? error.toJSON() : null;
    send({ type: "failed", runId, badInput, message: String((error as Error)?.stack ?? error) });
  }
});
