DROP INDEX "deployments_environment_finished_at_idx";--> statement-breakpoint
ALTER TABLE "deployments" ADD COLUMN "lead_seconds" double precision GENERATED ALWAYS AS (extract(epoch from "deployments"."finished_at" - "deployments"."committed_at")) STORED;--> statement-breakpoint
ALTER TABLE "deployments" ADD COLUMN "unplanned" boolean DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX "changes_failed_or_emergency_idx" ON "changes" USING btree ("id","status","type") WHERE "changes"."status" = 'failed' or "changes"."type" = 'emergency';--> statement-breakpoint
CREATE INDEX "deployments_environment_finished_at_covering_idx" ON "deployments" USING btree ("environment","finished_at","status","lead_seconds","change_id","unplanned","id");