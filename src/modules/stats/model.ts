import { t } from "elysia";
import { ISO_TIMESTAMP } from "../events/model";

export const StatsQuery = t.Object({
  from: t.Optional(t.String({ pattern: ISO_TIMESTAMP })),
  to: t.Optional(t.String({ pattern: ISO_TIMESTAMP })),
});
export const StatsResponse = t.Object({
  scope: t.Union([t.Literal("user"), t.Literal("global")]),
  totalEvents: t.Integer(),
  byType: t.Array(t.Object({ eventType: t.String(), count: t.Integer() })),
  users: t.Optional(t.Integer({ description: "registered users (global scope only)" })),
  deeplinks: t.Integer({ description: "deeplink_open events" }),
});
