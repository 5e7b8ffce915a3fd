CREATE TABLE "compute_aggregate_hosts" (
	"aggregate_id" integer NOT NULL,
	"host" text NOT NULL,
	CONSTRAINT "compute_aggregate_hosts_aggregate_id_host_pk" PRIMARY KEY("aggregate_id","host")
);
--> statement-breakpoint
CREATE TABLE "compute_aggregates" (
	"id" serial PRIMARY KEY NOT NULL,
	"uuid" text DEFAULT gen_random_uuid()::text NOT NULL,
	"name" text NOT NULL,
	"availability_zone" text,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone,
	CONSTRAINT "compute_aggregates_uuid_unique" UNIQUE("uuid"),
	CONSTRAINT "compute_aggregates_name_unique" UNIQUE("name")
);
--> statement-breakpoint
CREATE TABLE "compute_quota_classes" (
	"class_name" text NOT NULL,
	"resource" text NOT NULL,
	"hard_limit" bigint NOT NULL,
	CONSTRAINT "compute_quota_classes_class_name_resource_pk" PRIMARY KEY("class_name","resource")
);
--> statement-breakpoint
CREATE TABLE "compute_server_group_members" (
	"server_id" text PRIMARY KEY NOT NULL,
	"group_id" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "compute_server_groups" (
	"id" text PRIMARY KEY NOT NULL,
	"project_id" text NOT NULL,
	"user_id" text NOT NULL,
	"name" text NOT NULL,
	"policy" text NOT NULL,
	"rules" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "compute_services" (
	"id" serial PRIMARY KEY NOT NULL,
	"uuid" text DEFAULT gen_random_uuid()::text NOT NULL,
	"binary" text NOT NULL,
	"host" text NOT NULL,
	"disabled" boolean DEFAULT false NOT NULL,
	"disabled_reason" text,
	"forced_down" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "compute_services_uuid_unique" UNIQUE("uuid"),
	CONSTRAINT "compute_services_host_binary_unique" UNIQUE("host","binary")
);
--> statement-breakpoint
CREATE TABLE "compute_terminated_servers" (
	"id" text PRIMARY KEY NOT NULL,
	"project_id" text NOT NULL,
	"name" text NOT NULL,
	"flavor" jsonb NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"launched_at" timestamp with time zone,
	"terminated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "compute_hosts" ADD COLUMN "id" serial NOT NULL;--> statement-breakpoint
ALTER TABLE "compute_hosts" ADD COLUMN "uuid" text DEFAULT gen_random_uuid()::text NOT NULL;--> statement-breakpoint
ALTER TABLE "compute_aggregate_hosts" ADD CONSTRAINT "compute_aggregate_hosts_aggregate_id_compute_aggregates_id_fk" FOREIGN KEY ("aggregate_id") REFERENCES "public"."compute_aggregates"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "compute_server_group_members" ADD CONSTRAINT "compute_server_group_members_server_id_compute_servers_id_fk" FOREIGN KEY ("server_id") REFERENCES "public"."compute_servers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "compute_server_group_members" ADD CONSTRAINT "compute_server_group_members_group_id_compute_server_groups_id_fk" FOREIGN KEY ("group_id") REFERENCES "public"."compute_server_groups"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "compute_server_group_members_group" ON "compute_server_group_members" USING btree ("group_id");--> statement-breakpoint
CREATE INDEX "compute_server_groups_project" ON "compute_server_groups" USING btree ("project_id");--> statement-breakpoint
CREATE INDEX "compute_terminated_servers_project" ON "compute_terminated_servers" USING btree ("project_id");--> statement-breakpoint
ALTER TABLE "compute_hosts" ADD CONSTRAINT "compute_hosts_id_unique" UNIQUE("id");--> statement-breakpoint
ALTER TABLE "compute_hosts" ADD CONSTRAINT "compute_hosts_uuid_unique" UNIQUE("uuid");