CREATE TABLE "network_address_scopes" (
	"id" text PRIMARY KEY NOT NULL,
	"project_id" text NOT NULL,
	"name" text NOT NULL,
	"ip_version" integer NOT NULL,
	"shared" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "network_agents" (
	"id" text PRIMARY KEY NOT NULL,
	"host" text NOT NULL,
	"agent_type" text NOT NULL,
	"binary" text NOT NULL,
	"topic" text NOT NULL,
	"admin_state_up" boolean DEFAULT true NOT NULL,
	"configurations" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"heartbeat_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"description" text,
	CONSTRAINT "network_agents_host_type" UNIQUE("host","agent_type")
);
--> statement-breakpoint
CREATE TABLE "network_rbac_policies" (
	"id" text PRIMARY KEY NOT NULL,
	"project_id" text NOT NULL,
	"object_type" text DEFAULT 'network' NOT NULL,
	"object_id" text NOT NULL,
	"action" text NOT NULL,
	"target_tenant" text NOT NULL,
	CONSTRAINT "network_rbac_policies_grant" UNIQUE("object_id","action","target_tenant")
);
--> statement-breakpoint
CREATE TABLE "network_subnet_pools" (
	"id" text PRIMARY KEY NOT NULL,
	"project_id" text NOT NULL,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"ip_version" integer NOT NULL,
	"prefixes" jsonb NOT NULL,
	"default_prefixlen" integer NOT NULL,
	"min_prefixlen" integer NOT NULL,
	"max_prefixlen" integer NOT NULL,
	"is_default" boolean DEFAULT false NOT NULL,
	"shared" boolean DEFAULT false NOT NULL,
	"default_quota" integer,
	"address_scope_id" text,
	"revision_number" integer DEFAULT 0 NOT NULL,
	"tags" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "network_subnets" ADD COLUMN "subnetpool_id" text;--> statement-breakpoint
ALTER TABLE "network_rbac_policies" ADD CONSTRAINT "network_rbac_policies_object_id_network_networks_id_fk" FOREIGN KEY ("object_id") REFERENCES "public"."network_networks"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "network_subnet_pools" ADD CONSTRAINT "network_subnet_pools_address_scope_id_network_address_scopes_id_fk" FOREIGN KEY ("address_scope_id") REFERENCES "public"."network_address_scopes"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "network_address_scopes_project" ON "network_address_scopes" USING btree ("project_id");--> statement-breakpoint
CREATE INDEX "network_rbac_policies_target" ON "network_rbac_policies" USING btree ("target_tenant");--> statement-breakpoint
CREATE INDEX "network_subnet_pools_project" ON "network_subnet_pools" USING btree ("project_id");--> statement-breakpoint
CREATE UNIQUE INDEX "network_subnet_pools_default" ON "network_subnet_pools" USING btree ("ip_version") WHERE "network_subnet_pools"."is_default";--> statement-breakpoint
ALTER TABLE "network_subnets" ADD CONSTRAINT "network_subnets_subnetpool_id_network_subnet_pools_id_fk" FOREIGN KEY ("subnetpool_id") REFERENCES "public"."network_subnet_pools"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
INSERT INTO "network_rbac_policies" ("id", "project_id", "object_id", "action", "target_tenant") SELECT gen_random_uuid()::text, "project_id", "id", 'access_as_shared', '*' FROM "network_networks" WHERE "shared";--> statement-breakpoint
INSERT INTO "network_rbac_policies" ("id", "project_id", "object_id", "action", "target_tenant") SELECT gen_random_uuid()::text, "project_id", "id", 'access_as_external', '*' FROM "network_networks" WHERE "external";--> statement-breakpoint
ALTER TABLE "network_networks" DROP COLUMN "shared";