CREATE TABLE "orchestration_events" (
	"seq" bigserial PRIMARY KEY NOT NULL,
	"id" text NOT NULL,
	"stack_id" text NOT NULL,
	"resource_name" text NOT NULL,
	"physical_id" text,
	"resource_type" text,
	"action" text NOT NULL,
	"status" text NOT NULL,
	"reason" text DEFAULT '' NOT NULL,
	"time" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "orchestration_events_id_unique" UNIQUE("id")
);
--> statement-breakpoint
CREATE TABLE "orchestration_resources" (
	"stack_id" text NOT NULL,
	"name" text NOT NULL,
	"type" text NOT NULL,
	"physical_id" text,
	"action" text NOT NULL,
	"status" text NOT NULL,
	"status_reason" text DEFAULT '' NOT NULL,
	"data" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "orchestration_stacks" (
	"id" text PRIMARY KEY NOT NULL,
	"project_id" text NOT NULL,
	"user_id" text NOT NULL,
	"name" text NOT NULL,
	"template" jsonb NOT NULL,
	"parameters" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"action" text NOT NULL,
	"status" text NOT NULL,
	"status_reason" text DEFAULT '' NOT NULL,
	"disable_rollback" boolean DEFAULT true NOT NULL,
	"timeout_mins" integer,
	"tags" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone
);
--> statement-breakpoint
CREATE INDEX "orchestration_events_stack" ON "orchestration_events" USING btree ("stack_id","seq");--> statement-breakpoint
CREATE UNIQUE INDEX "orchestration_resources_stack_name" ON "orchestration_resources" USING btree ("stack_id","name");--> statement-breakpoint
CREATE UNIQUE INDEX "orchestration_stacks_project_name" ON "orchestration_stacks" USING btree ("project_id","name");--> statement-breakpoint
CREATE INDEX "orchestration_stacks_project" ON "orchestration_stacks" USING btree ("project_id");