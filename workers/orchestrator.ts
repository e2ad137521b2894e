/**
 * The thread that runs the pipeline for the API server (not a Piscina task file): it owns the
 * Piscina pool and runs runPipeline, so the stages the orchestration does itself (filter, dedupe,
 * sort, ROAS) never block the server's event loop. Messages in: OrchestratorRequest; out:
 * OrchestratorEvent.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { Piscina } from "piscina";
import { PipelineInputError } from "../src/pipeline/errors.ts";
import type { OrchestratorData, OrchestratorEvent, OrchestratorRequest } from "../src/pipeline/messages.ts";
import { createPipelinePool, runPipeline } from "../src/pipeline/run.ts";

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
