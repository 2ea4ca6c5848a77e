CREATE TYPE "public"."problem_state" AS ENUM('open', 'done', 'wont-do');--> statement-breakpoint
CREATE TABLE "incident_postmortems" (
	"incident_id" uuid PRIMARY KEY NOT NULL,
	"state" "swarm_setup_state" DEFAULT 'pending' NOT NULL,
	"content" text,
	"file_id" text,
	"upload_url" text,
	"uploaded" boolean DEFAULT false NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"not_before" timestamp with time zone NOT NULL,
	"locked_until" timestamp with time zone,
	"last_error" text,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "problems" ADD COLUMN "owner" text;--> statement-breakpoint
ALTER TABLE "problems" ADD COLUMN "state" "problem_state" DEFAULT 'open' NOT NULL;--> statement-breakpoint
ALTER TABLE "problems" ADD COLUMN "state_changed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "problems" ADD COLUMN "state_changed_by" text;--> statement-breakpoint
ALTER TABLE "problems" ADD COLUMN "feature_id" uuid;--> statement-breakpoint
ALTER TABLE "incident_postmortems" ADD CONSTRAINT "incident_postmortems_incident_id_incidents_id_fk" FOREIGN KEY ("incident_id") REFERENCES "public"."incidents"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "problems" ADD CONSTRAINT "problems_feature_id_sprint_features_id_fk" FOREIGN KEY ("feature_id") REFERENCES "public"."sprint_features"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "problems_feature_id_key" ON "problems" USING btree ("feature_id");