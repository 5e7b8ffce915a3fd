CREATE TABLE "compute_migrations" (
	"id" serial PRIMARY KEY NOT NULL,
	"uuid" text DEFAULT gen_random_uuid()::text NOT NULL,
	"server_id" text NOT NULL,
	"project_id" text NOT NULL,
	"user_id" text NOT NULL,
	"migration_type" text NOT NULL,
	"status" text NOT NULL,
	"source_compute" text,
	"dest_compute" text,
	"old_flavor_id" text NOT NULL,
	"new_flavor_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "compute_migrations_uuid_unique" UNIQUE("uuid")
);
--> statement-breakpoint
ALTER TABLE "compute_servers" ADD COLUMN "resize_step" text;--> statement-breakpoint
ALTER TABLE "compute_servers" ADD COLUMN "old_flavor" jsonb;--> statement-breakpoint
CREATE INDEX "compute_migrations_server" ON "compute_migrations" USING btree ("server_id");