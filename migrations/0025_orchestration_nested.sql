ALTER TABLE "orchestration_stacks" ADD COLUMN "files" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "orchestration_stacks" ADD COLUMN "registry" jsonb DEFAULT '{}'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "orchestration_stacks" ADD COLUMN "parent_id" text;