CREATE TABLE "incident_roles" (
	"incident_id" uuid NOT NULL,
	"role" text NOT NULL,
	"user_id" text NOT NULL,
	"assigned_by" text NOT NULL,
	"assigned_at" timestamp with time zone NOT NULL,
	CONSTRAINT "incident_roles_pkey" PRIMARY KEY("incident_id","role")
);
--> statement-breakpoint
CREATE TABLE "incident_update_snoozes" (
	"incident_id" uuid PRIMARY KEY NOT NULL,
	"until" timestamp with time zone NOT NULL,
	"snoozed_by" text NOT NULL,
	"snoozed_at" timestamp with time zone NOT NULL,
	"reminder_due_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "incidents" ADD COLUMN "archived_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "incident_roles" ADD CONSTRAINT "incident_roles_incident_id_incidents_id_fk" FOREIGN KEY ("incident_id") REFERENCES "public"."incidents"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "incident_update_snoozes" ADD CONSTRAINT "incident_update_snoozes_incident_id_incidents_id_fk" FOREIGN KEY ("incident_id") REFERENCES "public"."incidents"("id") ON DELETE no action ON UPDATE no action;