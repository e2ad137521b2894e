import { afterAll, describe, expect, test } from "bun:test";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { closePipelineThread, startPipelineThread } from "../src/modules/pipeline/service";
import { call, type ServerProcess, startServer } from "./helpers";

afterAll(() => closePipelineThread());

async function waitForRun(
  runId: string,
  get: (id: string) => Promise<{ status: number; json: any }> = (id) => call("GET", `/pipeline/runs/${id}`),
) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const response = await get(runId);
    if (response.json.status !== "running") return response;
    await Bun.sleep(100);
  }
  throw new Error("pipeline run did not finish in 60 s");
}

describe("POST /run-pipeline and GET /pipeline/runs/:runId", () => {
  test("runs the sample data in the worker pool, one run at a time, while /health keeps answering", async () => {
    const started = await call("POST", "/run-pipeline");
    expect(started.status).toBe(202);
    expect(started.json).toEqual({ runId: expect.any(String), status: "running" });

    const second = await call("POST", "/run-pipeline");
    expect(second.status).toBe(409);
    expect(second.json.error.code).toBe("pipeline_running");

    const health = await call("GET", "/health");
    expect(health.status).toBe(200);

    const finished = await waitForRun(started.json.runId);
    expect(finished.status).toBe(200);
    expect(finished.json.errors).toEqual([]);
    expect(finished.json.status).toBe("succeeded");
    expect(finished.json.stages.length).toBeGreaterThan(3);
    expect(finished.json.summary.curated).toBeGreaterThan(0);
    expect(finished.json.finishedAt).not.toBeNull();
    const reports = process.env.REPORTS_DIR!;
    for (const file of [
      "purchases_curated.csv",
      "reconciliation.json",
      "roas_d1.json",
      "roas_anomaly.json",
      "arpdau_d1.json",
      "quality.json",
      "index.html",
    ]) {
      expect(existsSync(join(reports, file))).toBe(true);
    }
    expect(JSON.parse(readFileSync(join(reports, "reconciliation.json"), "utf8")).summary.matched).toBe(
      finished.json.summary.matched,
    );

    // the run is over, so a new one may start
    const again = await call("POST", "/run-pipeline");
    expect(again.status).toBe(202);
    await waitForRun(again.json.runId);
  }, 90_000);

  test("a pipeline thread that dies fails its run; the next run starts a new thread and succeeds", async () => {
    const started = await call("POST", "/run-pipeline");
    expect(started.status).toBe(202);
    await startPipelineThread().terminate();
    const failed = await waitForRun(started.json.runId);
    expect(failed.json.status).toBe("failed");
    expect(failed.json.errors).toEqual([{ code: "internal_error", message: "the pipeline failed unexpectedly" }]);
    const again = await call("POST", "/run-pipeline");
    expect(again.status).toBe(202);
    expect((await waitForRun(again.json.runId)).json.status).toBe("succeeded");
  }, 90_000);

  test("unknown run -> 404, malformed run id -> 422", async () => {
    expect((await call("GET", `/pipeline/runs/${crypto.randomUUID()}`)).status).toBe(404);
    expect((await call("GET", "/pipeline/runs/not-a-uuid")).status).toBe(422);
  });
});

describe("ADMIN_TOKEN", () => {
  let server: ServerProcess | undefined;
  afterAll(() => server?.process.kill());

  test("when set, the pipeline routes need it as a Bearer token", async () => {
    server = await startServer({
      DATABASE_URL: "memory://",
      ADMIN_TOKEN: "admin-secret-123",
      REPORTS_DIR: process.env.REPORTS_DIR! + "-admin",
    });
    const post = (authorization?: string) =>
      fetch(`${server!.url}/run-pipeline`, { method: "POST", headers: authorization ? { authorization } : {} });
    for (const authorization of [undefined, "Bearer wrong", "Bearer admin-secret-12", "admin-secret-123"]) {
      const response = await post(authorization);
      expect(response.status).toBe(401);
      expect(((await response.json()) as any).error.code).toBe("unauthorized");
    }
    const accepted = await post("Bearer admin-secret-123");
    expect(accepted.status).toBe(202);
    const { runId } = (await accepted.json()) as { runId: string };
    expect((await fetch(`${server.url}/pipeline/runs/${runId}`)).status).toBe(401);
    const auth = { authorization: "Bearer admin-secret-123" };
    const done = await waitForRun(runId, async (id) => {
      const response = await fetch(`${server!.url}/pipeline/runs/${id}`, { headers: auth });
      return { status: response.status, json: (await response.json()) as any };
    });
    expect(done.json.status).toBe("succeeded");
  }, 90_000);
});

describe("a run on bad input, in a real server process", () => {
  let server: ServerProcess | undefined;
  afterAll(() => server?.process.kill());

  test("the run fails with bad_input naming the file and line; the previous reports stay; the server goes on", async () => {
    const root = mkdtempSync(join(tmpdir(), "pipeline-api-bad-"));
    const data = join(root, "data");
    const reports = join(root, "reports");
    cpSync("data", data, { recursive: true, filter: (source) => !source.includes("pglite") });
    mkdirSync(reports);
    writeFileSync(join(reports, "roas_d1.json"), "previous");
    writeFileSync(join(data, "costs_daily.csv"), "date,campaign,ad_cost_usd\r\n2025-06-01,A,1\n2025-06-02,A,2\n");
    server = await startServer({ DATABASE_URL: "memory://", DATA_DIR: data, REPORTS_DIR: reports });
    const started = await fetch(`${server.url}/run-pipeline`, { method: "POST" });
    expect(started.status).toBe(202);
    const { runId } = (await started.json()) as { runId: string };
    const done = await waitForRun(runId, async (id) => {
      const response = await fetch(`${server!.url}/pipeline/runs/${id}`);
      return { status: response.status, json: (await response.json()) as any };
    });
    expect(done.json.status).toBe("failed");
    expect(done.json.errors).toEqual([
      {
        code: "bad_input",
        message:
          "costs_daily.csv, line 2: mixed line endings: this line ends with LF, the first line with CRLF; convert the file to one line ending",
      },
    ]);
    expect(readFileSync(join(reports, "roas_d1.json"), "utf8")).toBe("previous");
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    rmSync(root, { recursive: true, force: true });
  }, 90_000);
});
