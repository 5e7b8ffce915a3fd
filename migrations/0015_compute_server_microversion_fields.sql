ALTER TABLE "compute_servers" ADD COLUMN "description" text;--> statement-breakpoint
ALTER TABLE "compute_servers" ADD COLUMN "tags" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "compute_servers" ADD COLUMN "trusted_certs" jsonb;--> statement-breakpoint
ALTER TABLE "compute_servers" ADD COLUMN "locked_by" text;--> statement-breakpoint
ALTER TABLE "compute_servers" ADD COLUMN "locked_reason" text;