CREATE TABLE "home_viewers" (
	"user_id" text PRIMARY KEY NOT NULL,
	"last_opened_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX "changes_service_deployed_at_idx" ON "changes" USING btree ("service","deployed_at");--> statement-breakpoint
CREATE INDEX "changes_service_failed_at_idx" ON "changes" USING btree ("service","failed_at");--> statement-breakpoint
CREATE INDEX "deployments_environment_finished_at_idx" ON "deployments" USING btree ("environment","finished_at");--> statement-breakpoint
CREATE INDEX "incidents_service_resolved_at_idx" ON "incidents" USING btree ("service","resolved_at");--> statement-breakpoint
CREATE INDEX "incidents_resolved_at_idx" ON "incidents" USING btree ("resolved_at");