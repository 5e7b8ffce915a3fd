CREATE TABLE "compute_instance_action_events" (
	"id" serial PRIMARY KEY NOT NULL,
	"action_id" integer NOT NULL,
	"event" text NOT NULL,
	"awaits" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"host" text,
	"start_time" timestamp with time zone DEFAULT now() NOT NULL,
	"finish_time" timestamp with time zone,
	"result" text,
	"traceback" text,
	"details" text
);
--> statement-breakpoint
CREATE TABLE "compute_instance_actions" (
	"id" serial PRIMARY KEY NOT NULL,
	"server_id" text NOT NULL,
	"project_id" text NOT NULL,
	"user_id" text NOT NULL,
	"request_id" text NOT NULL,
	"action" text NOT NULL,
	"message" text,
	"start_time" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "compute_servers" ADD COLUMN "soft_deleted_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "compute_instance_action_events" ADD CONSTRAINT "compute_instance_action_events_action_id_compute_instance_actions_id_fk" FOREIGN KEY ("action_id") REFERENCES "public"."compute_instance_actions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "compute_instance_action_events_action" ON "compute_instance_action_events" USING btree ("action_id");--> statement-breakpoint
CREATE INDEX "compute_instance_actions_server" ON "compute_instance_actions" USING btree ("server_id","start_time");