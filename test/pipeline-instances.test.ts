/**
 * Pipeline runs across server processes sharing one PostgreSQL database: one run at a time over
 * all instances (the advisory run lock), every run readable on every instance, and a run whose
 * server was killed marked failed (by the next run start elsewhere, or by the next start-up).
 * These start their own database and processes, so they run once (in the PGlite pass).
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTempDatabase, postgresAvailable, type ServerProcess, startServer } from "./helpers";

const inPglitePass = (process.env.DATABASE_URL ?? "memory://").startsWith("memory");
const pgUp = await postgresAvailable();
const ADMIN = "ops-test-admin-token-0123456789abcdef";

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function api(server: ServerProcess, method: string, path: string) {
  const response = await fetch(`${server.url}${path}`, { method, headers: { authorization: `Bearer ${ADMIN}` } });
  return { status: response.status, json: (await response.json()) as any };
}

async function waitFor(server: ServerProcess, runId: string, until: (json: any) => boolean, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const response = await api(server, "GET", `/pipeline/runs/${runId}`);
    if (response.status === 200 && until(response.json)) return response.json;
    await Bun.sleep(100);
  }
  throw new Error(`run ${runId} did not reach the expected state`);
}

/** POSTs until a 202: the database frees a killed session's lock once it notices the closed socket. */
async function startWhenFree(server: ServerProcess) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const response = await api(server, "POST", "/run-pipeline");
    if (response.status === 202 || Date.now() > deadline) return response;
    expect(response.status).toBe(409);
    await Bun.sleep(200);
  }
}

describe.skipIf(!inPglitePass || !pgUp)("pipeline runs on two server processes sharing one PostgreSQL", () => {
  test("one run at a time across instances, runs readable everywhere, killed runs marked failed", async () => {
    const work = mkdtempSync(join(tmpdir(), "pipeline-instances-"));
    cleanups.push(() => rmSync(work, { recursive: true, force: true }));
    const data = join(work, "data");
    // big enough that a run lasts seconds, so a second start and a kill land mid-run
    const generated = Bun.spawnSync({
      cmd: [process.execPath, "scripts/gen-data.ts", "--out", data, "--purchases", "300000", "--seed", "7", "--quiet"],
    });
    expect(generated.exitCode).toBe(0);
    const database = await createTempDatabase("pipe_inst");
    cleanups.push(database.drop);
    const env = {
      DATABASE_URL: database.url,
      DATA_DIR: data,
      REPORTS_DIR: join(work, "reports"),
      ADMIN_TOKEN: ADMIN,
      PIPELINE_WORKERS: "1",
      AUDIT_INTERVAL_S: "0",
    };
    const servers: ServerProcess[] = [];
    cleanups.push(() => {
      for (const s of servers) s.process.kill("SIGKILL");
    });
    const [a, b] = [await startServer(env), await startServer(env)];
    servers.push(a, b);

    // a run on A: B refuses a second one, naming A's run, and reports A's run while it goes
    const first = await api(a, "POST", "/run-pipeline");
    expect(first.status).toBe(202);
    const refused = await api(b, "POST", "/run-pipeline");
    expect(refused.status).toBe(409);
    expect(refused.json.error).toMatchObject({ code: "pipeline_running", details: { runId: first.json.runId } });
    expect((await api(a, "POST", "/run-pipeline")).status).toBe(409);
    const seenOnB = await api(b, "GET", `/pipeline/runs/${first.json.runId}`);
    expect(seenOnB.status).toBe(200);
    expect(seenOnB.json).toMatchObject({
      runId: first.json.runId,
      trigger: "http",
      status: "running",
      finishedAt: null,
    });
    const firstDone = await waitFor(b, first.json.runId, (run) => run.status !== "running");
    expect(firstDone).toMatchObject({ status: "succeeded", errors: [] });
    expect(firstDone.stages.length).toBeGreaterThan(3);

    // A's run is over: B may start one at once (whoever saw it finished can start the next)
    const second = await api(b, "POST", "/run-pipeline");
    expect(second.status).toBe(202);
    expect((await api(a, "POST", "/run-pipeline")).status).toBe(409);
    await waitFor(a, second.json.runId, (run) => run.status === "succeeded");

    // A killed mid-run: its lock dies with its session; B's next start marks A's run failed
    const victim = await api(a, "POST", "/run-pipeline");
    expect(victim.status).toBe(202);
    await waitFor(b, victim.json.runId, (run) => run.stages.length >= 1, 30_000);
    a.process.kill("SIGKILL");
    await a.process.exited;
    const afterKill = await startWhenFree(b);
    expect(afterKill.status).toBe(202);
    const interrupted = (await api(b, "GET", `/pipeline/runs/${victim.json.runId}`)).json;
    expect(interrupted.status).toBe("failed");
    expect(interrupted.finishedAt).not.toBeNull();
    expect(interrupted.errors.map((e: any) => e.code)).toEqual(["interrupted"]);
    await waitFor(b, afterKill.json.runId, (run) => run.status === "succeeded");

    // B killed mid-run and no other start: the next server's start-up marks the run failed
    const orphan = await api(b, "POST", "/run-pipeline");
    expect(orphan.status).toBe(202);
    await waitFor(b, orphan.json.runId, (run) => run.stages.length >= 1, 30_000);
    b.process.kill("SIGKILL");
    await b.process.exited;
    const c = await startServer(env);
    servers.push(c);
    const recovered = (await api(c, "GET", `/pipeline/runs/${orphan.json.runId}`)).json;
    expect(recovered).toMatchObject({ status: "failed", errors: [{ code: "interrupted" }] });

    // the history, newest first, on the new instance
    const list = await api(c, "GET", "/pipeline/runs?limit=3");
    expect(list.status).toBe(200);
    expect(list.json.runs.map((r: any) => r.runId)).toEqual([
      orphan.json.runId,
      afterKill.json.runId,
      victim.json.runId,
    ]);
    const rest = await api(c, "GET", `/pipeline/runs?limit=3&cursor=${list.json.nextCursor}`);
    expect(rest.json.runs.map((r: any) => r.runId)).toEqual([second.json.runId, first.json.runId]);
    expect(rest.json.nextCursor).toBeNull();
    expect(list.json.runs.filter((r: any) => r.status === "running")).toEqual([]);
    expect((await fetch(`${c.url}/pipeline/runs`)).status).toBe(401); // admin only
  }, 300_000);
});
