CREATE TABLE "incident_message_marks" (
	"channel_id" text NOT NULL,
	"ts" text NOT NULL,
	"mark" text NOT NULL,
	"marked_by" text NOT NULL,
	"marked_at" timestamp with time zone NOT NULL,
	CONSTRAINT "incident_message_marks_channel_id_ts_mark_pk" PRIMARY KEY("channel_id","ts","mark")
);
--> statement-breakpoint
CREATE TABLE "incident_messages" (
	"channel_id" text NOT NULL,
	"ts" text NOT NULL,
	"incident_id" uuid NOT NULL,
	"user" text,
	"text" text,
	"thread_ts" text,
	"posted_at" timestamp with time zone NOT NULL,
	"edited_at" timestamp with time zone,
	"deleted_at" timestamp with time zone,
	"permalink" text,
	CONSTRAINT "incident_messages_channel_id_ts_pk" PRIMARY KEY("channel_id","ts")
);
--> statement-breakpoint
ALTER TABLE "incident_messages" ADD CONSTRAINT "incident_messages_incident_id_incidents_id_fk" FOREIGN KEY ("incident_id") REFERENCES "public"."incidents"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "incident_messages_incident_id_posted_at_idx" ON "incident_messages" USING btree ("incident_id","posted_at");