CREATE TABLE "volume_backups" (
	"id" text PRIMARY KEY NOT NULL,
	"project_id" text NOT NULL,
	"user_id" text NOT NULL,
	"volume_id" text NOT NULL,
	"name" text,
	"description" text,
	"size" integer NOT NULL,
	"status" text DEFAULT 'creating' NOT NULL,
	"is_incremental" boolean DEFAULT false NOT NULL,
	"parent_id" text,
	"backend" text NOT NULL,
	"location" text,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"restore_volume_id" text,
	"restore_creates" boolean DEFAULT false NOT NULL,
	"fault" text,
	"data_timestamp" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "volume_backups_project" ON "volume_backups" USING btree ("project_id");--> statement-breakpoint
CREATE INDEX "volume_backups_volume" ON "volume_backups" USING btree ("volume_id");