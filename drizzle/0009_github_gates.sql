CREATE TYPE "public"."github_call_status" AS ENUM('pending', 'sent', 'settled', 'failed');--> statement-breakpoint
CREATE TABLE "github_calls" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "github_calls_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"dedup_key" text NOT NULL,
	"gate_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"installation_id" bigint NOT NULL,
	"method" text NOT NULL,
	"path" text NOT NULL,
	"body" jsonb NOT NULL,
	"status" "github_call_status" DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"not_before" timestamp with time zone NOT NULL,
	"locked_until" timestamp with time zone,
	"last_error" text,
	"created_at" timestamp with time zone NOT NULL,
	"sent_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "github_deliveries" (
	"id" text PRIMARY KEY NOT NULL,
	"event" text NOT NULL,
	"payload" jsonb NOT NULL,
	"received_at" timestamp with time zone NOT NULL,
	"processed_at" timestamp with time zone,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text
);
--> statement-breakpoint
CREATE TABLE "github_deployment_statuses" (
	"id" bigint PRIMARY KEY NOT NULL,
	"deployment_id" uuid,
	"recorded_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "github_gates" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"repository" text NOT NULL,
	"run_id" bigint NOT NULL,
	"environment" text NOT NULL,
	"installation_id" bigint NOT NULL,
	"callback_path" text NOT NULL,
	"change_id" uuid NOT NULL,
	"sha" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "github_calls" ADD CONSTRAINT "github_calls_gate_id_github_gates_id_fk" FOREIGN KEY ("gate_id") REFERENCES "public"."github_gates"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "github_deployment_statuses" ADD CONSTRAINT "github_deployment_statuses_deployment_id_deployments_id_fk" FOREIGN KEY ("deployment_id") REFERENCES "public"."deployments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "github_gates" ADD CONSTRAINT "github_gates_change_id_changes_id_fk" FOREIGN KEY ("change_id") REFERENCES "public"."changes"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "github_calls_dedup_key_key" ON "github_calls" USING btree ("dedup_key");--> statement-breakpoint
CREATE INDEX "github_calls_pending_gate_idx" ON "github_calls" USING btree ("gate_id","id") WHERE "github_calls"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "github_deliveries_unprocessed_idx" ON "github_deliveries" USING btree ("received_at") WHERE "github_deliveries"."processed_at" is null;--> statement-breakpoint
CREATE UNIQUE INDEX "github_gates_run_id_environment_key" ON "github_gates" USING btree ("run_id","environment");--> statement-breakpoint
CREATE UNIQUE INDEX "github_gates_change_id_key" ON "github_gates" USING btree ("change_id");--> statement-breakpoint
CREATE INDEX "github_gates_sha_idx" ON "github_gates" USING btree ("sha");