-- Every pipeline run started over HTTP or from the CLI, kept across restarts (GET /pipeline/runs).
CREATE TABLE "pipeline_runs" (
	"id" uuid PRIMARY KEY NOT NULL,
	"seq" bigserial NOT NULL,
	"trigger" text NOT NULL,
	"status" text NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	"stages" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"summary" jsonb,
	"errors" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"instance" text,
	CONSTRAINT "pipeline_runs_seq_unique" UNIQUE("seq"),
	CONSTRAINT "pipeline_runs_trigger_check" CHECK ("pipeline_runs"."trigger" IN ('http', 'cli')),
	CONSTRAINT "pipeline_runs_status_check" CHECK ("pipeline_runs"."status" IN ('running', 'succeeded', 'failed'))
);
--> statement-breakpoint
-- at most one run in progress, across every instance sharing the database
CREATE UNIQUE INDEX "pipeline_runs_one_running_uq" ON "pipeline_runs" USING btree ("status") WHERE "pipeline_runs"."status" = 'running';
