CREATE TYPE "public"."change_risk" AS ENUM('low', 'medium', 'high');--> statement-breakpoint
CREATE TYPE "public"."change_status" AS ENUM('pending', 'approved', 'rejected', 'cancelled', 'deployed', 'failed');--> statement-breakpoint
CREATE TYPE "public"."change_type" AS ENUM('standard', 'normal', 'emergency');--> statement-breakpoint
CREATE TYPE "public"."deployment_status" AS ENUM('success', 'failure');--> statement-breakpoint
CREATE TYPE "public"."vote_choice" AS ENUM('approve', 'reject');--> statement-breakpoint
CREATE TABLE "change_audit" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "change_audit_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"change_id" uuid NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"actor" text NOT NULL,
	"action" text NOT NULL,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "change_budgets" (
	"service" text NOT NULL,
	"sprint" text NOT NULL,
	"budget" integer NOT NULL,
	"previous_budget" integer,
	"last_rate" real,
	"prior_rate" real,
	"reason" text NOT NULL,
	"set_at" timestamp with time zone NOT NULL,
	CONSTRAINT "change_budgets_pkey" PRIMARY KEY("service","sprint")
);
--> statement-breakpoint
CREATE TABLE "change_messages" (
	"change_id" uuid NOT NULL,
	"channel" text NOT NULL,
	"ts" text NOT NULL,
	"kind" text NOT NULL,
	CONSTRAINT "change_messages_pkey" PRIMARY KEY("channel","ts")
);
--> statement-breakpoint
CREATE TABLE "change_votes" (
	"change_id" uuid NOT NULL,
	"voter" text NOT NULL,
	"choice" "vote_choice" NOT NULL,
	"reason" text,
	"at" timestamp with time zone NOT NULL,
	CONSTRAINT "change_votes_pkey" PRIMARY KEY("change_id","voter")
);
--> statement-breakpoint
CREATE TABLE "changes" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"number" integer GENERATED ALWAYS AS IDENTITY (sequence name "changes_number_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"service" text NOT NULL,
	"title" text NOT NULL,
	"type" "change_type" NOT NULL,
	"risk" "change_risk" NOT NULL,
	"environment" text NOT NULL,
	"description" text,
	"rollback_plan" text,
	"justification" text,
	"planned_start" timestamp with time zone,
	"planned_end" timestamp with time zone,
	"ref" text,
	"commit_sha" text,
	"requested_by" text NOT NULL,
	"request_key" text,
	"status" "change_status" DEFAULT 'pending' NOT NULL,
	"requested_at" timestamp with time zone NOT NULL,
	"sprint" text NOT NULL,
	"decided_at" timestamp with time zone,
	"decided_by" text[],
	"decision_reason" text,
	"policy" jsonb,
	"approved_by_policy" boolean DEFAULT false NOT NULL,
	"review_required" boolean DEFAULT false NOT NULL,
	"last_reminded_at" timestamp with time zone,
	"deployed_at" timestamp with time zone,
	"failed_at" timestamp with time zone,
	"failure_reason" text,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "deployments" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"service" text NOT NULL,
	"environment" text NOT NULL,
	"status" "deployment_status" NOT NULL,
	"commit_sha" text,
	"change_id" uuid,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone NOT NULL,
	"committed_at" timestamp with time zone,
	"url" text,
	"reported_by" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "incidents" ADD COLUMN "caused_by_change_id" uuid;--> statement-breakpoint
ALTER TABLE "change_audit" ADD CONSTRAINT "change_audit_change_id_changes_id_fk" FOREIGN KEY ("change_id") REFERENCES "public"."changes"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "change_messages" ADD CONSTRAINT "change_messages_change_id_changes_id_fk" FOREIGN KEY ("change_id") REFERENCES "public"."changes"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "change_votes" ADD CONSTRAINT "change_votes_change_id_changes_id_fk" FOREIGN KEY ("change_id") REFERENCES "public"."changes"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "deployments" ADD CONSTRAINT "deployments_change_id_changes_id_fk" FOREIGN KEY ("change_id") REFERENCES "public"."changes"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "change_audit_change_id_idx" ON "change_audit" USING btree ("change_id","id");--> statement-breakpoint
CREATE INDEX "change_messages_change_id_idx" ON "change_messages" USING btree ("change_id");--> statement-breakpoint
CREATE UNIQUE INDEX "changes_number_key" ON "changes" USING btree ("number");--> statement-breakpoint
CREATE UNIQUE INDEX "changes_request_key_key" ON "changes" USING btree ("request_key");--> statement-breakpoint
CREATE INDEX "changes_service_sprint_idx" ON "changes" USING btree ("service","sprint");--> statement-breakpoint
CREATE INDEX "changes_pending_requested_at_idx" ON "changes" USING btree ("requested_at") WHERE "changes"."status" = 'pending';--> statement-breakpoint
CREATE INDEX "deployments_service_finished_at_idx" ON "deployments" USING btree ("service","environment","finished_at");--> statement-breakpoint
CREATE INDEX "deployments_change_id_idx" ON "deployments" USING btree ("change_id");--> statement-breakpoint
ALTER TABLE "incidents" ADD CONSTRAINT "incidents_caused_by_change_id_changes_id_fk" FOREIGN KEY ("caused_by_change_id") REFERENCES "public"."changes"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "incidents_caused_by_change_id_idx" ON "incidents" USING btree ("caused_by_change_id");