CREATE TYPE "public"."feature_status" AS ENUM('planned', 'in-dev', 'in-uat', 'done', 'dropped');--> statement-breakpoint
CREATE TABLE "scheduled_runs" (
	"job" text NOT NULL,
	"period" text NOT NULL,
	"period_at" timestamp with time zone NOT NULL,
	"claimed_at" timestamp with time zone NOT NULL,
	CONSTRAINT "scheduled_runs_pkey" PRIMARY KEY("job","period")
);
--> statement-breakpoint
CREATE TABLE "customer_requests" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"number" integer GENERATED ALWAYS AS IDENTITY (sequence name "customer_requests_number_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"channel" text NOT NULL,
	"message_ts" text NOT NULL,
	"text" text NOT NULL,
	"requester" text,
	"permalink" text,
	"tracked_by" text NOT NULL,
	"feature_id" uuid,
	"created_at" timestamp with time zone NOT NULL,
	"linked_at" timestamp with time zone,
	"shipped_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "digest_subscriptions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"service" text NOT NULL,
	"channel" text NOT NULL,
	"cron" text NOT NULL,
	"time_zone" text NOT NULL,
	"subscribed_by" text NOT NULL,
	"active_since" timestamp with time zone NOT NULL,
	"disabled_at" timestamp with time zone,
	"disabled_reason" text
);
--> statement-breakpoint
CREATE TABLE "sprint_digests" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"subscription_id" uuid NOT NULL,
	"sprint_id" uuid NOT NULL,
	"channel" text NOT NULL,
	"message_ts" text,
	"rendered_revision" integer NOT NULL,
	"posted_at" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sprint_feature_events" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "sprint_feature_events_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"feature_id" uuid NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"actor" text NOT NULL,
	"from_status" "feature_status",
	"to_status" "feature_status" NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sprint_features" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"sprint_id" uuid NOT NULL,
	"key" text NOT NULL,
	"title" text NOT NULL,
	"status" "feature_status" NOT NULL,
	"customer_visible" boolean NOT NULL,
	"position" integer NOT NULL,
	"status_changed_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sprints" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"key" text NOT NULL,
	"service" text NOT NULL,
	"name" text NOT NULL,
	"starts_on" date NOT NULL,
	"ends_on" date NOT NULL,
	"revision" integer DEFAULT 0 NOT NULL,
	"features_added" integer DEFAULT 0 NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "customer_requests" ADD CONSTRAINT "customer_requests_feature_id_sprint_features_id_fk" FOREIGN KEY ("feature_id") REFERENCES "public"."sprint_features"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sprint_digests" ADD CONSTRAINT "sprint_digests_subscription_id_digest_subscriptions_id_fk" FOREIGN KEY ("subscription_id") REFERENCES "public"."digest_subscriptions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sprint_digests" ADD CONSTRAINT "sprint_digests_sprint_id_sprints_id_fk" FOREIGN KEY ("sprint_id") REFERENCES "public"."sprints"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sprint_feature_events" ADD CONSTRAINT "sprint_feature_events_feature_id_sprint_features_id_fk" FOREIGN KEY ("feature_id") REFERENCES "public"."sprint_features"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sprint_features" ADD CONSTRAINT "sprint_features_sprint_id_sprints_id_fk" FOREIGN KEY ("sprint_id") REFERENCES "public"."sprints"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "customer_requests_number_key" ON "customer_requests" USING btree ("number");--> statement-breakpoint
CREATE UNIQUE INDEX "customer_requests_channel_message_ts_key" ON "customer_requests" USING btree ("channel","message_ts");--> statement-breakpoint
CREATE INDEX "customer_requests_feature_id_idx" ON "customer_requests" USING btree ("feature_id");--> statement-breakpoint
CREATE INDEX "customer_requests_channel_created_at_idx" ON "customer_requests" USING btree ("channel","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "digest_subscriptions_service_channel_key" ON "digest_subscriptions" USING btree ("service","channel");--> statement-breakpoint
CREATE INDEX "sprint_digests_subscription_id_created_at_idx" ON "sprint_digests" USING btree ("subscription_id","created_at");--> statement-breakpoint
CREATE INDEX "sprint_feature_events_feature_id_at_idx" ON "sprint_feature_events" USING btree ("feature_id","at");--> statement-breakpoint
CREATE UNIQUE INDEX "sprint_features_sprint_id_key_key" ON "sprint_features" USING btree ("sprint_id",upper("key"));--> statement-breakpoint
CREATE UNIQUE INDEX "sprints_key_key" ON "sprints" USING btree ("key");--> statement-breakpoint
CREATE INDEX "sprints_service_starts_on_idx" ON "sprints" USING btree ("service","starts_on");