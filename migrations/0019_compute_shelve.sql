ALTER TABLE "compute_servers" ADD COLUMN "shelved_image_id" text;--> statement-breakpoint
ALTER TABLE "compute_servers" ADD COLUMN "shelved_at" timestamp with time zone;