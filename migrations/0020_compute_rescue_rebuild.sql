ALTER TABLE "compute_servers" ADD COLUMN "rescue_image_id" text;--> statement-breakpoint
ALTER TABLE "compute_servers" ADD COLUMN "rebuilds" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "compute_servers" ADD COLUMN "observed_rebuilds" integer DEFAULT 0 NOT NULL;