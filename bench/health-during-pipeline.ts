/**
 * /health latency while POST /run-pipeline processes a data set in the server's worker pool.
 * `bun bench/health-during-pipeline.ts --data-dir /tmp/d1m [--interval-ms 50]`
 * Starts the server (in-memory PGlite), measures /health alone for 3 s, then during the run.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { "data-dir": { type: "string" }, "interval-ms": { type: "string" } } });
const dataDir = values["data-dir"];
if (!dataDir) throw new Error("--data-dir is required");
const intervalMs = Number(values["interval-ms"] ?? 50);

const port = 20000 + Math.floor(Math.random() * 20000);
const server = Bun.spawn({
  cmd: [process.execPath, "src/index.ts"],
  env: {
    ...process.env,
    PORT: String(port),
    DATABASE_URL: "memory://",
    DATA_DIR: dataDir,
    REPORTS_DIR: join(mkdtempSync(join(tmpdir(), "health-")), "reports"),
    LOG_LEVEL: "warn",
  },
  stdout: "ignore",
  stderr: "inherit",
});
const url = `http://127.0.0.1:${port}`;

async function probe(): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${url}/health`);
  await response.arrayBuffer();
  if (!response.ok) throw new Error(`/health answered ${response.status}`);
  return performance.now() - started;
}

/** Probes /health every intervalMs until `until` resolves; returns the latencies. */
async function sample(until: Promise<unknown>): Promise<number[]> {
  let done = false;
  void until.finally(() => (done = true));
  const latencies: number[] = [];
  while (!done) {
    latencies.push(await probe());
    await Bun.sleep(intervalMs);
  }
  return latencies;
}

const summary = (label: string, ms: number[]) => {
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))].toFixed(1);
  console.log(
    `${label.padEnd(22)} n=${String(ms.length).padStart(4)}  p50 ${at(0.5)} ms  p95 ${at(0.95)} ms  p99 ${at(0.99)} ms  max ${sorted[sorted.length - 1].toFixed(1)} ms`,
  );
};

try {
  for (let i = 0; i < 300; i++) {
    try {
      await probe();
      break;
    } catch {
      await Bun.sleep(100);
    }
  }
  summary("/health, idle", await sample(Bun.sleep(3000)));
  const started = performance.now();
  const { runId } = (await (await fetch(`${url}/run-pipeline`, { method: "POST" })).json()) as { runId: string };
  const finished = (async () => {
    for (;;) {
      const run = (await (await fetch(`${url}/pipeline/runs/${runId}`)).json()) as {
        status: string;
        errors: unknown[];
      };
      if (run.status !== "running") return run;
      await Bun.sleep(250);
    }
  })();
  const during = await sample(finished);
  const run = await finished;
  console.log(
    `pipeline run ${run.status} in ${((performance.now() - started) / 1000).toFixed(1)} s ${run.errors.length ? JSON.stringify(run.errors) : ""}`,
  );
  summary("/health, during the run", during);
} finally {
  server.kill();
}
