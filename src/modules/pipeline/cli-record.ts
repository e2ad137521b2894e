/**
 * Recording a CLI run (`npm run pipeline`) in pipeline_runs, under the same one-run-at-a-time lock
 * as the servers. Only with DATABASE_URL=postgres://: PGlite belongs to one process (a server may
 * hold it), so with PGlite a CLI run is recorded in run.json beside the reports only.
 */
import type { RunView } from "./model";
import type { RunError, Stage } from "./repository";

/** The record of one CLI run; finish() writes its end, frees the lock and closes the database. */
export interface CliRunRecord {
  runId: string;
  startedAt: string;
  /** false when the run is not in the database (PGlite, or the database could not be reached) */
  stored: boolean;
  finish(end: {
    status: "succeeded" | "failed";
    stages: Stage[];
    summary: Record<string, unknown> | null;
    errors: RunError[];
  }): Promise<RunView>;
}

/** Starts the record, "busy" when another run holds the lock; warn() gets the reason a run is not stored. */
export async function beginCliRun(warn: (message: string) => void): Promise<CliRunRecord | "busy"> {
  const local = (): CliRunRecord => {
    const runId = crypto.randomUUID();
    const startedAt = new Date().toISOString();
    return {
      runId,
      startedAt,
      stored: false,
      finish: async (end) => ({ runId, trigger: "cli", startedAt, finishedAt: new Date().toISOString(), ...end }),
    };
  };
  if (!/^postgres(ql)?:\/\//.test(process.env.DATABASE_URL ?? "")) return local();
  let close = async () => {};
  try {
    const { closeDatabase, rawQuery } = await import("../../db/client");
    close = async () => void (await closeDatabase().catch(() => {}));
    const { tryRunLock } = await import("./lock");
    const { INSTANCE, failInterruptedRuns, finishRun, insertRun, runningRunId } = await import("./repository");
    const lock = await tryRunLock();
    if (!lock) {
      warn(
        `another pipeline run is in progress (runId ${(await runningRunId(rawQuery)) ?? "unknown"}); one run at a time`,
      );
      await close();
      return "busy";
    }
    await failInterruptedRuns(rawQuery);
    const row = await insertRun(rawQuery, { id: crypto.randomUUID(), trigger: "cli", instance: INSTANCE });
    return {
      runId: row.runId,
      startedAt: row.startedAt,
      stored: true,
      finish: async (end) => {
        let view: RunView = { ...row, ...end, finishedAt: new Date().toISOString() };
        await lock.release(async (query) => {
          const saved = await finishRun(query, row.runId, end);
          if (saved) view = saved;
        });
        await close();
        return view;
      },
    };
  } catch (error) {
    warn(`run not recorded in pipeline_runs: ${(error as Error)?.message ?? error}`);
    await close();
    return local();
  }
}
