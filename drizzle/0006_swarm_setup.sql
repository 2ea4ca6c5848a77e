CREATE TYPE "public"."swarm_setup_state" AS ENUM('pending', 'done');--> statement-breakpoint
ALTER TABLE "incidents" ADD COLUMN "summary_pinned" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "incidents" ADD COLUMN "swarm_setup" "swarm_setup_state" DEFAULT 'pending' NOT NULL;--> statement-breakpoint
ALTER TABLE "incidents" ADD COLUMN "swarm_channel_name" text;--> statement-breakpoint
ALTER TABLE "incidents" ADD COLUMN "swarm_invite" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "incidents" ADD COLUMN "swarm_invited" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "incidents" ADD COLUMN "swarm_attempts" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "incidents" ADD COLUMN "swarm_not_before" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "incidents" ADD COLUMN "swarm_locked_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "incidents" ADD COLUMN "swarm_last_error" text;--> statement-breakpoint
CREATE INDEX "incidents_swarm_setup_pending_idx" ON "incidents" USING btree ("swarm_not_before") WHERE "incidents"."swarm_setup" = 'pending';