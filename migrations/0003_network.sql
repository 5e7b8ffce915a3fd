CREATE TABLE "network_default_security_groups" (
	"project_id" text PRIMARY KEY NOT NULL,
	"security_group_id" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "network_floating_ips" (
	"id" text PRIMARY KEY NOT NULL,
	"project_id" text NOT NULL,
	"floating_network_id" text NOT NULL,
	"floating_port_id" text NOT NULL,
	"floating_ip_address" text NOT NULL,
	"port_id" text,
	"fixed_ip_address" text,
	"router_id" text,
	"status" text DEFAULT 'DOWN' NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"revision_number" integer DEFAULT 0 NOT NULL,
	"tags" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "network_floating_ips_fixed" UNIQUE("port_id","fixed_ip_address")
);
--> statement-breakpoint
CREATE TABLE "network_ip_allocations" (
	"port_id" text NOT NULL,
	"subnet_id" text NOT NULL,
	"network_id" text NOT NULL,
	"ip_address" text NOT NULL,
	CONSTRAINT "network_ip_allocations_subnet_id_ip_address_pk" PRIMARY KEY("subnet_id","ip_address")
);
--> statement-breakpoint
CREATE TABLE "network_networks" (
	"id" text PRIMARY KEY NOT NULL,
	"project_id" text NOT NULL,
	"name" text DEFAULT '' NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"admin_state_up" boolean DEFAULT true NOT NULL,
	"shared" boolean DEFAULT false NOT NULL,
	"external" boolean DEFAULT false NOT NULL,
	"mtu" integer NOT NULL,
	"port_security_enabled" boolean DEFAULT true NOT NULL,
	"network_type" text NOT NULL,
	"physical_network" text,
	"segmentation_id" integer,
	"segment" text,
	"status" text DEFAULT 'ACTIVE' NOT NULL,
	"revision_number" integer DEFAULT 0 NOT NULL,
	"tags" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "network_networks_segment" UNIQUE("segment")
);
--> statement-breakpoint
CREATE TABLE "network_port_security_groups" (
	"port_id" text NOT NULL,
	"security_group_id" text NOT NULL,
	CONSTRAINT "network_port_security_groups_port_id_security_group_id_pk" PRIMARY KEY("port_id","security_group_id")
);
--> statement-breakpoint
CREATE TABLE "network_ports" (
	"id" text PRIMARY KEY NOT NULL,
	"network_id" text NOT NULL,
	"project_id" text NOT NULL,
	"name" text DEFAULT '' NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"mac_address" text NOT NULL,
	"device_id" text DEFAULT '' NOT NULL,
	"device_owner" text DEFAULT '' NOT NULL,
	"admin_state_up" boolean DEFAULT true NOT NULL,
	"status" text DEFAULT 'DOWN' NOT NULL,
	"port_security_enabled" boolean DEFAULT true NOT NULL,
	"allowed_address_pairs" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"host_id" text DEFAULT '' NOT NULL,
	"vnic_type" text DEFAULT 'normal' NOT NULL,
	"binding_profile" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"dns_name" text DEFAULT '' NOT NULL,
	"revision_number" integer DEFAULT 0 NOT NULL,
	"tags" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "network_ports_mac" UNIQUE("network_id","mac_address")
);
--> statement-breakpoint
CREATE TABLE "network_quotas" (
	"project_id" text NOT NULL,
	"resource" text NOT NULL,
	"hard_limit" bigint NOT NULL,
	CONSTRAINT "network_quotas_project_id_resource_pk" PRIMARY KEY("project_id","resource")
);
--> statement-breakpoint
CREATE TABLE "network_routers" (
	"id" text PRIMARY KEY NOT NULL,
	"project_id" text NOT NULL,
	"name" text DEFAULT '' NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"admin_state_up" boolean DEFAULT true NOT NULL,
	"status" text DEFAULT 'ACTIVE' NOT NULL,
	"enable_snat" boolean DEFAULT true NOT NULL,
	"routes" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"revision_number" integer DEFAULT 0 NOT NULL,
	"tags" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "network_security_group_rules" (
	"id" text PRIMARY KEY NOT NULL,
	"security_group_id" text NOT NULL,
	"project_id" text NOT NULL,
	"direction" text NOT NULL,
	"ethertype" text NOT NULL,
	"protocol" text,
	"port_range_min" integer,
	"port_range_max" integer,
	"remote_ip_prefix" text,
	"remote_group_id" text,
	"description" text DEFAULT '' NOT NULL,
	"revision_number" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "network_security_groups" (
	"id" text PRIMARY KEY NOT NULL,
	"project_id" text NOT NULL,
	"name" text DEFAULT '' NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"stateful" boolean DEFAULT true NOT NULL,
	"revision_number" integer DEFAULT 0 NOT NULL,
	"tags" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "network_subnets" (
	"id" text PRIMARY KEY NOT NULL,
	"network_id" text NOT NULL,
	"project_id" text NOT NULL,
	"name" text DEFAULT '' NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"ip_version" integer NOT NULL,
	"cidr" text NOT NULL,
	"gateway_ip" text,
	"allocation_pools" jsonb NOT NULL,
	"dns_nameservers" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"host_routes" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"enable_dhcp" boolean DEFAULT true NOT NULL,
	"ipv6_ra_mode" text,
	"ipv6_address_mode" text,
	"revision_number" integer DEFAULT 0 NOT NULL,
	"tags" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "network_default_security_groups" ADD CONSTRAINT "network_default_security_groups_security_group_id_network_security_groups_id_fk" FOREIGN KEY ("security_group_id") REFERENCES "public"."network_security_groups"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "network_floating_ips" ADD CONSTRAINT "network_floating_ips_floating_network_id_network_networks_id_fk" FOREIGN KEY ("floating_network_id") REFERENCES "public"."network_networks"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "network_floating_ips" ADD CONSTRAINT "network_floating_ips_floating_port_id_network_ports_id_fk" FOREIGN KEY ("floating_port_id") REFERENCES "public"."network_ports"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "network_floating_ips" ADD CONSTRAINT "network_floating_ips_port_id_network_ports_id_fk" FOREIGN KEY ("port_id") REFERENCES "public"."network_ports"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "network_floating_ips" ADD CONSTRAINT "network_floating_ips_router_id_network_routers_id_fk" FOREIGN KEY ("router_id") REFERENCES "public"."network_routers"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "network_ip_allocations" ADD CONSTRAINT "network_ip_allocations_port_id_network_ports_id_fk" FOREIGN KEY ("port_id") REFERENCES "public"."network_ports"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "network_ip_allocations" ADD CONSTRAINT "network_ip_allocations_subnet_id_network_subnets_id_fk" FOREIGN KEY ("subnet_id") REFERENCES "public"."network_subnets"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "network_port_security_groups" ADD CONSTRAINT "network_port_security_groups_port_id_network_ports_id_fk" FOREIGN KEY ("port_id") REFERENCES "public"."network_ports"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "network_port_security_groups" ADD CONSTRAINT "network_port_security_groups_security_group_id_network_security_groups_id_fk" FOREIGN KEY ("security_group_id") REFERENCES "public"."network_security_groups"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "network_ports" ADD CONSTRAINT "network_ports_network_id_network_networks_id_fk" FOREIGN KEY ("network_id") REFERENCES "public"."network_networks"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "network_security_group_rules" ADD CONSTRAINT "network_security_group_rules_security_group_id_network_security_groups_id_fk" FOREIGN KEY ("security_group_id") REFERENCES "public"."network_security_groups"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "network_security_group_rules" ADD CONSTRAINT "network_security_group_rules_remote_group_id_network_security_groups_id_fk" FOREIGN KEY ("remote_group_id") REFERENCES "public"."network_security_groups"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "network_subnets" ADD CONSTRAINT "network_subnets_network_id_network_networks_id_fk" FOREIGN KEY ("network_id") REFERENCES "public"."network_networks"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "network_floating_ips_project" ON "network_floating_ips" USING btree ("project_id");--> statement-breakpoint
CREATE INDEX "network_ip_allocations_port" ON "network_ip_allocations" USING btree ("port_id");--> statement-breakpoint
CREATE INDEX "network_networks_project" ON "network_networks" USING btree ("project_id");--> statement-breakpoint
CREATE INDEX "network_port_security_groups_group" ON "network_port_security_groups" USING btree ("security_group_id");--> statement-breakpoint
CREATE INDEX "network_ports_network" ON "network_ports" USING btree ("network_id");--> statement-breakpoint
CREATE INDEX "network_ports_device" ON "network_ports" USING btree ("device_id");--> statement-breakpoint
CREATE INDEX "network_ports_project" ON "network_ports" USING btree ("project_id");--> statement-breakpoint
CREATE INDEX "network_routers_project" ON "network_routers" USING btree ("project_id");--> statement-breakpoint
CREATE INDEX "network_security_group_rules_group" ON "network_security_group_rules" USING btree ("security_group_id");--> statement-breakpoint
CREATE INDEX "network_security_groups_project" ON "network_security_groups" USING btree ("project_id");--> statement-breakpoint
CREATE INDEX "network_subnets_network" ON "network_subnets" USING btree ("network_id");