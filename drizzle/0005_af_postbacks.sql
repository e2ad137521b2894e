-- AppsFlyer Push API records: append-only; one row per purchase key (SPEC 4 rule 3's dedupe key, hashed).
CREATE TABLE "af_postbacks" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"purchase_key" text NOT NULL,
	"appsflyer_id" text NOT NULL,
	"event_name" text NOT NULL,
	"event_time" timestamp with time zone NOT NULL,
	"event_revenue_usd" numeric,
	"campaign" text,
	"media_source" text,
	"receipt_id" text,
	"record" jsonb NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "af_postbacks_purchase_key_uq" ON "af_postbacks" USING btree ("purchase_key");--> statement-breakpoint
CREATE INDEX "af_postbacks_event_time_idx" ON "af_postbacks" USING btree ("event_time","id");--> statement-breakpoint
CREATE OR REPLACE FUNCTION af_postbacks_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'af_postbacks is append-only: % is not allowed', TG_OP USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE TRIGGER af_postbacks_append_only BEFORE UPDATE OR DELETE ON af_postbacks
  FOR EACH ROW EXECUTE FUNCTION af_postbacks_append_only();
