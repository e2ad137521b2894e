-- Index order matches the queries' ORDER BY ... DESC (NULLS FIRST, PostgreSQL's default for DESC): the
-- NULLS LAST indexes of 0000 could filter a user's rows but never hand them over in order, so every page sorted them all.
DROP INDEX IF EXISTS "events_user_ts_idx";--> statement-breakpoint
CREATE INDEX "events_user_ts_idx" ON "events" USING btree ("user_id","ts_utc" DESC,"id" DESC);--> statement-breakpoint
DROP INDEX IF EXISTS "wallet_ledger_user_id_idx";--> statement-breakpoint
CREATE INDEX "wallet_ledger_user_id_idx" ON "wallet_ledger" USING btree ("user_id","id" DESC);--> statement-breakpoint
-- ts_utc ranges of the global /stats: an index-only scan of the range, grouped by type, instead of the whole table
CREATE INDEX "events_ts_type_idx" ON "events" USING btree ("ts_utc","event_type");
