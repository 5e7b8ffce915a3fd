CREATE TABLE "volume_attachments" (
	"id" text PRIMARY KEY NOT NULL,
	"volume_id" text NOT NULL,
	"project_id" text NOT NULL,
	"instance_uuid" text,
	"host" text,
	"mountpoint" text,
	"attach_mode" text DEFAULT 'rw' NOT NULL,
	"status" text DEFAULT 'reserved' NOT NULL,
	"connector" jsonb,
	"connection_info" jsonb,
	"delete_on_termination" boolean DEFAULT false NOT NULL,
	"boot_index" integer,
	"fault" text,
	"attached_at" timestamp with time zone,
	"detached_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "volume_quotas" (
	"project_id" text NOT NULL,
	"resource" text NOT NULL,
	"hard_limit" bigint NOT NULL,
	CONSTRAINT "volume_quotas_project_id_resource_pk" PRIMARY KEY("project_id","resource")
);
--> statement-breakpoint
CREATE TABLE "volume_snapshots" (
	"id" text PRIMARY KEY NOT NULL,
	"project_id" text NOT NULL,
	"user_id" text NOT NULL,
	"volume_id" text NOT NULL,
	"name" text,
	"description" text,
	"size" integer NOT NULL,
	"status" text DEFAULT 'creating' NOT NULL,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"backend" text NOT NULL,
	"provider_location" text,
	"fault" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "volume_type_access" (
	"type_id" text NOT NULL,
	"project_id" text NOT NULL,
	CONSTRAINT "volume_type_access_type_id_project_id_pk" PRIMARY KEY("type_id","project_id")
);
--> statement-breakpoint
CREATE TABLE "volume_type_extra_specs" (
	"type_id" text NOT NULL,
	"key" text NOT NULL,
	"value" text NOT NULL,
	CONSTRAINT "volume_type_extra_specs_type_id_key_pk" PRIMARY KEY("type_id","key")
);
--> statement-breakpoint
CREATE TABLE "volume_types" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"description" text,
	"is_public" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "volume_volumes" (
	"id" text PRIMARY KEY NOT NULL,
	"project_id" text NOT NULL,
	"user_id" text NOT NULL,
	"name" text,
	"description" text,
	"size" integer NOT NULL,
	"status" text DEFAULT 'creating' NOT NULL,
	"availability_zone" text NOT NULL,
	"volume_type_id" text NOT NULL,
	"bootable" boolean DEFAULT false NOT NULL,
	"read_only" boolean DEFAULT false NOT NULL,
	"multiattach" boolean DEFAULT false NOT NULL,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"volume_image_metadata" jsonb,
	"source_volid" text,
	"snapshot_id" text,
	"image_id" text,
	"backend" text NOT NULL,
	"host" text,
	"provider_location" text,
	"allocated_size" integer DEFAULT 0 NOT NULL,
	"fault" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"launched_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "volume_attachments" ADD CONSTRAINT "volume_attachments_volume_id_volume_volumes_id_fk" FOREIGN KEY ("volume_id") REFERENCES "public"."volume_volumes"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "volume_snapshots" ADD CONSTRAINT "volume_snapshots_volume_id_volume_volumes_id_fk" FOREIGN KEY ("volume_id") REFERENCES "public"."volume_volumes"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "volume_type_access" ADD CONSTRAINT "volume_type_access_type_id_volume_types_id_fk" FOREIGN KEY ("type_id") REFERENCES "public"."volume_types"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "volume_type_extra_specs" ADD CONSTRAINT "volume_type_extra_specs_type_id_volume_types_id_fk" FOREIGN KEY ("type_id") REFERENCES "public"."volume_types"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "volume_attachments_volume" ON "volume_attachments" USING btree ("volume_id");--> statement-breakpoint
CREATE INDEX "volume_attachments_instance" ON "volume_attachments" USING btree ("instance_uuid");--> statement-breakpoint
CREATE INDEX "volume_snapshots_project" ON "volume_snapshots" USING btree ("project_id");--> statement-breakpoint
CREATE INDEX "volume_snapshots_volume" ON "volume_snapshots" USING btree ("volume_id");--> statement-breakpoint
CREATE UNIQUE INDEX "volume_types_name" ON "volume_types" USING btree ("name");--> statement-breakpoint
CREATE INDEX "volume_volumes_project" ON "volume_volumes" USING btree ("project_id");--> statement-breakpoint
CREATE INDEX "volume_volumes_status" ON "volume_volumes" USING btree ("status");--> statement-breakpoint
CREATE INDEX "volume_volumes_created" ON "volume_volumes" USING btree ("created_at");