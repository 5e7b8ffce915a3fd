CREATE TABLE "alarming_history" (
	"event_id" uuid PRIMARY KEY NOT NULL,
	"alarm_id" uuid NOT NULL,
	"type" text NOT NULL,
	"detail" text NOT NULL,
	"timestamp" timestamp with time zone NOT NULL,
	"user_id" text,
	"project_id" text,
	"on_behalf_of" text NOT NULL,
	"severity" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "alarming_alarms" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"description" text NOT NULL,
	"type" text NOT NULL,
	"rule" jsonb NOT NULL,
	"enabled" boolean NOT NULL,
	"severity" text NOT NULL,
	"state" text NOT NULL,
	"state_reason" text NOT NULL,
	"state_timestamp" timestamp with time zone NOT NULL,
	"timestamp" timestamp with time zone NOT NULL,
	"evaluate_timestamp" timestamp with time zone,
	"repeat_actions" boolean NOT NULL,
	"alarm_actions" jsonb NOT NULL,
	"ok_actions" jsonb NOT NULL,
	"insufficient_data_actions" jsonb NOT NULL,
	"time_constraints" jsonb NOT NULL,
	"project_id" text NOT NULL,
	"user_id" text NOT NULL
);
--> statement-breakpoint
CREATE INDEX "alarming_history_alarm" ON "alarming_history" USING btree ("alarm_id","timestamp");--> statement-breakpoint
CREATE UNIQUE INDEX "alarming_alarms_project_name" ON "alarming_alarms" USING btree ("project_id","name");