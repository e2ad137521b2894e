import { t } from "elysia";

const RunStatus = t.Union([t.Literal("running"), t.Literal("succeeded"), t.Literal("failed")]);

export const RunStarted = t.Object({ runId: t.String(), status: RunStatus });

export const RunView = t.Object({
  runId: t.String(),
  /** who started it: POST /run-pipeline or `npm run pipeline` */
  trigger: t.Optional(t.Union([t.Literal("http"), t.Literal("cli")])),
  status: RunStatus,
  startedAt: t.String({ format: "date-time" }),
  finishedAt: t.Union([t.String({ format: "date-time" }), t.Null()]),
  stages: t.Array(t.Object({ name: t.String(), ms: t.Number(), rows: t.Number() })),
  summary: t.Union([t.Record(t.String(), t.Unknown()), t.Null()]),
  errors: t.Array(t.Object({ code: t.String(), message: t.String() })),
});
export type RunView = typeof RunView.static;

export const RunParams = t.Object({ runId: t.String({ format: "uuid" }) });

export const RunsQuery = t.Object({
  limit: t.Optional(t.Numeric({ minimum: 1, maximum: 100, multipleOf: 1, default: 20 })),
  cursor: t.Optional(t.String({ pattern: "^[0-9]{1,18}$", description: "nextCursor of the previous page" })),
});

export const RunList = t.Object({ runs: t.Array(RunView), nextCursor: t.Union([t.String(), t.Null()]) });
