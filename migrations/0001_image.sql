CREATE TABLE "image_images" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text,
	"owner" text NOT NULL,
	"status" text DEFAULT 'queued' NOT NULL,
	"visibility" text DEFAULT 'shared' NOT NULL,
	"protected" boolean DEFAULT false NOT NULL,
	"os_hidden" boolean DEFAULT false NOT NULL,
	"disk_format" text,
	"container_format" text,
	"min_ram" integer DEFAULT 0 NOT NULL,
	"min_disk" integer DEFAULT 0 NOT NULL,
	"size" bigint,
	"virtual_size" bigint,
	"checksum" text,
	"os_hash_algo" text,
	"os_hash_value" text,
	"tags" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"properties" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"uploading_to" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "image_members" (
	"image_id" text NOT NULL,
	"member_id" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "image_members_image_id_member_id_pk" PRIMARY KEY("image_id","member_id")
);
--> statement-breakpoint
ALTER TABLE "image_members" ADD CONSTRAINT "image_members_image_id_image_images_id_fk" FOREIGN KEY ("image_id") REFERENCES "public"."image_images"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "image_images_owner_index" ON "image_images" USING btree ("owner");--> statement-breakpoint
CREATE INDEX "image_images_created_at_index" ON "image_images" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "image_images_status_index" ON "image_images" USING btree ("status");--> statement-breakpoint
CREATE INDEX "image_members_member_id_index" ON "image_members" USING btree ("member_id");