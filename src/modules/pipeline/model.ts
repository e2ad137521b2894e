import { t } from "elysia";

export const RunStatus = t.Union([t.Literal("running"), t.Literal("succeeded"), t.Literal("failed")]);

export const RunStarted = t.Object({ runId: t.String(), status: RunStatus });

export const RunView = t.Object({
  runId: t.String(),
  status: RunStatus,
  startedAt: t.String({ format: "date-time" }),
  finishedAt: t.Union([t.String({ format: "date-time" }), t.Null()]),
  stages: t.Array(t.Object({ name: t.String(), ms: t.Number(), rows: t.Number() })),
  summary: t.Union([t.Record(t.String(), t.Unknown()), t.Null()]),
  errors: t.Array(t.Object({ code: t.String(), message: t.String() })),
});
export type RunView = typeof RunView.static;

export const RunParams = t.Object({ runId: t.String({ format: "uuid" }) });
