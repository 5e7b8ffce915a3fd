CREATE TABLE "telemetry_aggregates" (
	"metric_id" uuid NOT NULL,
	"granularity" integer NOT NULL,
	"ts" timestamp with time zone NOT NULL,
	"count" integer NOT NULL,
	"sum" double precision NOT NULL,
	"sumsq" double precision NOT NULL,
	"min" double precision NOT NULL,
	"max" double precision NOT NULL,
	"last" double precision NOT NULL,
	"last_at" timestamp with time zone NOT NULL,
	"rcount" integer DEFAULT 0 NOT NULL,
	"rsum" double precision DEFAULT 0 NOT NULL,
	"rsumsq" double precision DEFAULT 0 NOT NULL,
	"rmin" double precision,
	"rmax" double precision,
	"rlast" double precision,
	CONSTRAINT "telemetry_aggregates_metric_id_granularity_ts_pk" PRIMARY KEY("metric_id","granularity","ts")
);
--> statement-breakpoint
CREATE TABLE "telemetry_archive_policies" (
	"name" text PRIMARY KEY NOT NULL,
	"back_window" integer DEFAULT 0 NOT NULL,
	"definition" jsonb NOT NULL,
	"aggregation_methods" jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "telemetry_archive_policy_rules" (
	"name" text PRIMARY KEY NOT NULL,
	"metric_pattern" text NOT NULL,
	"archive_policy_name" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "telemetry_metrics" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text,
	"unit" text,
	"resource_id" uuid,
	"archive_policy_name" text NOT NULL,
	"created_by_user_id" text NOT NULL,
	"created_by_project_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_at" timestamp with time zone,
	"last_value" double precision
);
--> statement-breakpoint
CREATE TABLE "telemetry_resources" (
	"id" uuid PRIMARY KEY NOT NULL,
	"original_resource_id" text NOT NULL,
	"type" text NOT NULL,
	"project_id" text,
	"user_id" text,
	"created_by_user_id" text NOT NULL,
	"created_by_project_id" text NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"ended_at" timestamp with time zone,
	"revision_start" timestamp with time zone DEFAULT now() NOT NULL,
	"attributes" jsonb DEFAULT '{}'::jsonb NOT NULL
);
--> statement-breakpoint
CREATE INDEX "telemetry_metrics_resource" ON "telemetry_metrics" USING btree ("resource_id","name");--> statement-breakpoint
CREATE INDEX "telemetry_metrics_policy" ON "telemetry_metrics" USING btree ("archive_policy_name");--> statement-breakpoint
CREATE INDEX "telemetry_resources_project" ON "telemetry_resources" USING btree ("project_id");--> statement-breakpoint
CREATE INDEX "telemetry_resources_type" ON "telemetry_resources" USING btree ("type");