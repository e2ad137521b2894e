/**
 * One pipeline run at a time across every process sharing the database. On PostgreSQL a session
 * advisory lock held on a connection of its own for the whole run: it cannot outlive the process
 * (a crash closes the session and frees it), so whoever takes it next knows that a row still
 * 'running' was left by a dead process. PGlite belongs to one process, so a flag is enough there.
 */
import postgres from "postgres";
import { config } from "../../config";
import { driver, type RawQuery, rawTransaction } from "../../db/client";
import { log } from "../../logger";

/** pg_advisory_lock key of the pipeline run lock ("pipe" in ASCII) */
export const RUN_LOCK_KEY = 0x70697065;

export interface RunLock {
  /** The run's final write goes in the transaction that releases the lock: whoever sees the run finished can start the next. */
  release(last: (query: RawQuery) => Promise<unknown>): Promise<void>;
}

let heldInProcess = false;

/** The run lock, or undefined when another run (in this or another process) holds it. */
export async function tryRunLock(): Promise<RunLock | undefined> {
  if (heldInProcess) return undefined;
  heldInProcess = true;
  if (driver !== "postgres") {
    return {
      release: async (last) => {
        try {
          await rawTransaction(last);
        } finally {
          heldInProcess = false;
        }
      },
    };
  }
  let session: postgres.Sql | undefined;
  try {
    // no max_lifetime: the session must live as long as the run
    session = postgres(config.databaseUrl!, { max: 1, max_lifetime: 0, connect_timeout: 10, onnotice: () => {} });
    const [row] = await session.unsafe<{ locked: boolean }[]>("select pg_try_advisory_lock($1) as locked", [
      RUN_LOCK_KEY,
    ]);
    if (!row?.locked) {
      heldInProcess = false;
      await session.end({ timeout: 1 });
      return undefined;
    }
  } catch (error) {
    heldInProcess = false;
    await session?.end({ timeout: 1 }).catch(() => {});
    throw error;
  }
  const sql = session;
  return {
    release: async (last) => {
      try {
        await sql.begin(async (tx) => {
          await last((text, params) => tx.unsafe(text, params as never[]) as never);
          // a session lock is released at once, before the commit: a process that takes it and
          // looks for interrupted runs waits on this run's row lock, then sees it finished
          await tx.unsafe("select pg_advisory_unlock($1)", [RUN_LOCK_KEY]);
        });
      } catch (error) {
        // the write failed: still free the lock, so the next run can start (and mark this one failed)
        log("error", "pipeline run: final write failed", { error: String((error as Error)?.message ?? error) });
        await sql.unsafe("select pg_advisory_unlock($1)", [RUN_LOCK_KEY]).catch(() => {});
      } finally {
        heldInProcess = false;
        await sql.end({ timeout: 5 }).catch(() => {});
      }
    },
  };
}

/**
 * At start-up: marks failed the runs a dead process left 'running'. On PostgreSQL only when the
 * lock is free (a live instance's run is left alone); the next run start checks again.
 */
export async function recoverInterruptedRuns(fail: (query: RawQuery) => Promise<string[]>): Promise<string[]> {
  const lock = await tryRunLock();
  if (!lock) return [];
  let ids: string[] = [];
  await lock.release(async (query) => (ids = await fail(query)));
  return ids;
}
