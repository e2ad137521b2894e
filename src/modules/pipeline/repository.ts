/**
 * The pipeline_runs table in plain SQL: every run started over HTTP or from the CLI, its stages,
 * summary or errors. Each function takes the query function to run on, so a run's last write can
 * share the transaction that releases the run lock (see lock.ts).
 */
import { hostname } from "node:os";
import type { RawQuery } from "../../db/client";
import type { PipelineRunState } from "../../metrics";
import type { RunView } from "./model";

export type Trigger = "http" | "cli";
/** which process ran a run, in pipeline_runs.instance */
export const INSTANCE = `${hostname()}:${process.pid}`;
export type Stage = RunView["stages"][number];
export type RunError = RunView["errors"][number];

interface RunRow {
  id: string;
  seq: string | number;
  trigger: Trigger;
  status: RunView["status"];
  started_at: Date | string;
  finished_at: Date | string | null;
  stages: Stage[];
  summary: Record<string, unknown> | null;
  errors: RunError[];
}

const COLUMNS = "id, seq, trigger, status, started_at, finished_at, stages, summary, errors";
const iso = (value: Date | string) => new Date(value).toISOString();

/** The API view of a row (RunView plus its trigger). */
function toView(row: RunRow): RunView & { trigger: Trigger } {
  return {
    runId: row.id,
    trigger: row.trigger,
    status: row.status,
    startedAt: iso(row.started_at),
    finishedAt: row.finished_at === null ? null : iso(row.finished_at),
    stages: row.stages,
    summary: row.summary,
    errors: row.errors,
  };
}

/** Inserts a running run; the partial unique index refuses a second running row. */
export async function insertRun(
  query: RawQuery,
  run: { id: string; trigger: Trigger; instance: string },
): Promise<RunView & { trigger: Trigger }> {
  const rows = await query<RunRow>(
    `insert into pipeline_runs (id, trigger, status, instance) values ($1, $2, 'running', $3) returning ${COLUMNS}`,
    [run.id, run.trigger, run.instance],
  );
  return toView(rows[0]!);
}

/** Records the stages finished so far of a running run. */
export async function saveStages(query: RawQuery, id: string, stages: Stage[]): Promise<void> {
  await query(`update pipeline_runs set stages = $2::text::jsonb where id = $1 and status = 'running'`, [
    id,
    JSON.stringify(stages),
  ]);
}

/** Marks a running run succeeded or failed, with its stages and summary or errors. */
export async function finishRun(
  query: RawQuery,
  id: string,
  end: { status: "succeeded" | "failed"; stages: Stage[]; summary: Record<string, unknown> | null; errors: RunError[] },
): Promise<(RunView & { trigger: Trigger }) | undefined> {
  const rows = await query<RunRow>(
    `update pipeline_runs set status = $2, finished_at = now(), stages = $3::text::jsonb, summary = $4::text::jsonb, errors = $5::text::jsonb
     where id = $1 and status = 'running' returning ${COLUMNS}`,
    [
      id,
      end.status,
      JSON.stringify(end.stages),
      end.summary === null ? null : JSON.stringify(end.summary),
      JSON.stringify(end.errors),
    ],
  );
  return rows[0] && toView(rows[0]);
}

/**
 * Marks failed every run still 'running'. Only called while holding the run lock, when no process
 * can be running one: those rows belong to a process that died mid-run.
 */
export async function failInterruptedRuns(query: RawQuery): Promise<string[]> {
  const error: RunError = {
    code: "interrupted",
    message: "the process running the pipeline stopped before the run finished",
  };
  const rows = await query<{ id: string }>(
    `update pipeline_runs set status = 'failed', finished_at = now(), errors = errors || $1::text::jsonb where status = 'running' returning id`,
    [JSON.stringify([error])],
  );
  return rows.map((r) => r.id);
}

export async function findRun(query: RawQuery, id: string): Promise<(RunView & { trigger: Trigger }) | undefined> {
  const rows = await query<RunRow>(`select ${COLUMNS} from pipeline_runs where id = $1`, [id]);
  return rows[0] && toView(rows[0]);
}

export async function runningRunId(query: RawQuery): Promise<string | undefined> {
  const rows = await query<{ id: string }>(`select id from pipeline_runs where status = 'running' limit 1`, []);
  return rows[0]?.id;
}

/** Newest first; `before` is the seq cursor of the previous page. */
export async function listRuns(
  query: RawQuery,
  limit: number,
  before?: number,
): Promise<{ runs: (RunView & { trigger: Trigger })[]; nextCursor: string | null }> {
  const rows = await query<RunRow>(
    before === undefined
      ? `select ${COLUMNS} from pipeline_runs order by seq desc limit $1`
      : `select ${COLUMNS} from pipeline_runs where seq < $2 order by seq desc limit $1`,
    before === undefined ? [limit + 1] : [limit + 1, before],
  );
  const page = rows.slice(0, limit);
  return { runs: page.map(toView), nextCursor: rows.length > limit ? String(page[page.length - 1]!.seq) : null };
}

/** What the pipeline gauges of /metrics show: the last finished run and the age of a running one. */
export async function pipelineState(query: RawQuery): Promise<PipelineRunState> {
  const rows = await query<{ status: string; duration_s: number | string; finished_s: number | string | null }>(
    `(select status, extract(epoch from coalesce(finished_at, now()) - started_at)::float8 as duration_s, extract(epoch from finished_at)::float8 as finished_s
        from pipeline_runs where status <> 'running' order by seq desc limit 1)
     union all
     (select status, extract(epoch from now() - started_at)::float8, null from pipeline_runs where status = 'running' limit 1)`,
    [],
  );
  const last = rows.find((r) => r.status !== "running");
  const running = rows.find((r) => r.status === "running");
  return {
    last: last && {
      durationS: Number(last.duration_s),
      succeeded: last.status === "succeeded",
      finishedAtS: Number(last.finished_s),
    },
    runningS: running ? Number(running.duration_s) : 0,
  };
}
