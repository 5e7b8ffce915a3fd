CREATE TABLE "compute_flavor_access" (
	"flavor_id" text NOT NULL,
	"project_id" text NOT NULL,
	CONSTRAINT "compute_flavor_access_flavor_id_project_id_pk" PRIMARY KEY("flavor_id","project_id")
);
--> statement-breakpoint
CREATE TABLE "compute_flavor_extra_specs" (
	"flavor_id" text NOT NULL,
	"key" text NOT NULL,
	"value" text NOT NULL,
	CONSTRAINT "compute_flavor_extra_specs_flavor_id_key_pk" PRIMARY KEY("flavor_id","key")
);
--> statement-breakpoint
CREATE TABLE "compute_flavors" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"ram" integer NOT NULL,
	"vcpus" integer NOT NULL,
	"disk" integer NOT NULL,
	"ephemeral" integer DEFAULT 0 NOT NULL,
	"swap" integer DEFAULT 0 NOT NULL,
	"rxtx_factor" real DEFAULT 1 NOT NULL,
	"is_public" boolean DEFAULT true NOT NULL,
	"description" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "compute_flavors_name_unique" UNIQUE("name")
);
--> statement-breakpoint
CREATE TABLE "compute_hosts" (
	"name" text PRIMARY KEY NOT NULL,
	"vcpus" integer NOT NULL,
	"memory_mib" integer NOT NULL,
	"disk_gib" integer NOT NULL,
	"cpu_ratio" real NOT NULL,
	"ram_ratio" real NOT NULL,
	"disk_ratio" real NOT NULL,
	"reserved_memory_mib" integer NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "compute_keypairs" (
	"id" serial PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"name" text NOT NULL,
	"type" text DEFAULT 'ssh' NOT NULL,
	"public_key" text NOT NULL,
	"fingerprint" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "compute_keypairs_user_id_name_unique" UNIQUE("user_id","name")
);
--> statement-breakpoint
CREATE TABLE "compute_quotas" (
	"project_id" text NOT NULL,
	"resource" text NOT NULL,
	"hard_limit" bigint NOT NULL,
	CONSTRAINT "compute_quotas_project_id_resource_pk" PRIMARY KEY("project_id","resource")
);
--> statement-breakpoint
CREATE TABLE "compute_servers" (
	"id" text PRIMARY KEY NOT NULL,
	"project_id" text NOT NULL,
	"user_id" text NOT NULL,
	"name" text NOT NULL,
	"hostname" text NOT NULL,
	"image_id" text NOT NULL,
	"flavor" jsonb NOT NULL,
	"key_name" text,
	"key_data" text,
	"user_data" text,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"config_drive" boolean DEFAULT false NOT NULL,
	"availability_zone" text,
	"networks" jsonb NOT NULL,
	"security_groups" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"access_ip_v4" text DEFAULT '' NOT NULL,
	"access_ip_v6" text DEFAULT '' NOT NULL,
	"power" text DEFAULT 'running' NOT NULL,
	"reboots" integer DEFAULT 0 NOT NULL,
	"reboot_hard" boolean DEFAULT false NOT NULL,
	"deleting" boolean DEFAULT false NOT NULL,
	"generation" integer DEFAULT 1 NOT NULL,
	"host" text,
	"vm_state" text DEFAULT 'building' NOT NULL,
	"power_state" integer DEFAULT 0 NOT NULL,
	"observed_generation" integer DEFAULT 0 NOT NULL,
	"observed_reboots" integer DEFAULT 0 NOT NULL,
	"fault" jsonb,
	"launched_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "compute_snapshots" (
	"image_id" text PRIMARY KEY NOT NULL,
	"server_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "compute_flavor_access" ADD CONSTRAINT "compute_flavor_access_flavor_id_compute_flavors_id_fk" FOREIGN KEY ("flavor_id") REFERENCES "public"."compute_flavors"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "compute_flavor_extra_specs" ADD CONSTRAINT "compute_flavor_extra_specs_flavor_id_compute_flavors_id_fk" FOREIGN KEY ("flavor_id") REFERENCES "public"."compute_flavors"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "compute_snapshots" ADD CONSTRAINT "compute_snapshots_server_id_compute_servers_id_fk" FOREIGN KEY ("server_id") REFERENCES "public"."compute_servers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "compute_servers_project" ON "compute_servers" USING btree ("project_id");--> statement-breakpoint
CREATE INDEX "compute_servers_host" ON "compute_servers" USING btree ("host");