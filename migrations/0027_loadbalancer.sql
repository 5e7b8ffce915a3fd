CREATE TABLE "lb_healthmonitors" (
	"id" text PRIMARY KEY NOT NULL,
	"project_id" text NOT NULL,
	"name" text DEFAULT '' NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"admin_state_up" boolean DEFAULT true NOT NULL,
	"provisioning_status" text DEFAULT 'PENDING_CREATE' NOT NULL,
	"operating_status" text DEFAULT 'OFFLINE' NOT NULL,
	"tags" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone,
	"loadbalancer_id" text NOT NULL,
	"pool_id" text NOT NULL,
	"type" text NOT NULL,
	"delay" integer NOT NULL,
	"timeout" integer NOT NULL,
	"max_retries" integer NOT NULL,
	"max_retries_down" integer DEFAULT 3 NOT NULL,
	"http_method" text,
	"url_path" text,
	"expected_codes" text,
	CONSTRAINT "lb_healthmonitors_pool_id_unique" UNIQUE("pool_id")
);
--> statement-breakpoint
CREATE TABLE "lb_listener_stats" (
	"listener_id" text PRIMARY KEY NOT NULL,
	"loadbalancer_id" text NOT NULL,
	"bytes_in" bigint DEFAULT 0 NOT NULL,
	"bytes_out" bigint DEFAULT 0 NOT NULL,
	"active_connections" integer DEFAULT 0 NOT NULL,
	"total_connections" bigint DEFAULT 0 NOT NULL,
	"request_errors" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "lb_listeners" (
	"id" text PRIMARY KEY NOT NULL,
	"project_id" text NOT NULL,
	"name" text DEFAULT '' NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"admin_state_up" boolean DEFAULT true NOT NULL,
	"provisioning_status" text DEFAULT 'PENDING_CREATE' NOT NULL,
	"operating_status" text DEFAULT 'OFFLINE' NOT NULL,
	"tags" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone,
	"loadbalancer_id" text NOT NULL,
	"protocol" text NOT NULL,
	"protocol_port" integer NOT NULL,
	"connection_limit" integer DEFAULT -1 NOT NULL,
	"default_pool_id" text,
	"timeout_client_data" integer DEFAULT 50000 NOT NULL,
	"timeout_member_connect" integer DEFAULT 5000 NOT NULL,
	"timeout_member_data" integer DEFAULT 50000 NOT NULL,
	"timeout_tcp_inspect" integer DEFAULT 0 NOT NULL,
	"insert_headers" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"allowed_cidrs" jsonb
);
--> statement-breakpoint
CREATE TABLE "lb_loadbalancers" (
	"id" text PRIMARY KEY NOT NULL,
	"project_id" text NOT NULL,
	"name" text DEFAULT '' NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"admin_state_up" boolean DEFAULT true NOT NULL,
	"provisioning_status" text DEFAULT 'PENDING_CREATE' NOT NULL,
	"operating_status" text DEFAULT 'OFFLINE' NOT NULL,
	"tags" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone,
	"provider" text NOT NULL,
	"vip_port_id" text NOT NULL,
	"vip_network_id" text NOT NULL,
	"vip_subnet_id" text NOT NULL,
	"vip_address" text NOT NULL,
	"host" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "lb_members" (
	"id" text PRIMARY KEY NOT NULL,
	"project_id" text NOT NULL,
	"name" text DEFAULT '' NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"admin_state_up" boolean DEFAULT true NOT NULL,
	"provisioning_status" text DEFAULT 'PENDING_CREATE' NOT NULL,
	"operating_status" text DEFAULT 'OFFLINE' NOT NULL,
	"tags" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone,
	"loadbalancer_id" text NOT NULL,
	"pool_id" text NOT NULL,
	"address" text NOT NULL,
	"protocol_port" integer NOT NULL,
	"weight" integer DEFAULT 1 NOT NULL,
	"subnet_id" text,
	"backup" boolean DEFAULT false NOT NULL,
	"monitor_address" text,
	"monitor_port" integer
);
--> statement-breakpoint
CREATE TABLE "lb_pools" (
	"id" text PRIMARY KEY NOT NULL,
	"project_id" text NOT NULL,
	"name" text DEFAULT '' NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"admin_state_up" boolean DEFAULT true NOT NULL,
	"provisioning_status" text DEFAULT 'PENDING_CREATE' NOT NULL,
	"operating_status" text DEFAULT 'OFFLINE' NOT NULL,
	"tags" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone,
	"loadbalancer_id" text NOT NULL,
	"protocol" text NOT NULL,
	"lb_algorithm" text NOT NULL,
	"session_persistence" jsonb
);
--> statement-breakpoint
CREATE INDEX "lb_healthmonitors_lb" ON "lb_healthmonitors" USING btree ("loadbalancer_id");--> statement-breakpoint
CREATE UNIQUE INDEX "lb_listeners_port" ON "lb_listeners" USING btree ("loadbalancer_id","protocol_port");--> statement-breakpoint
CREATE INDEX "lb_listeners_lb" ON "lb_listeners" USING btree ("loadbalancer_id");--> statement-breakpoint
CREATE INDEX "lb_loadbalancers_project" ON "lb_loadbalancers" USING btree ("project_id");--> statement-breakpoint
CREATE UNIQUE INDEX "lb_members_endpoint" ON "lb_members" USING btree ("pool_id","address","protocol_port");--> statement-breakpoint
CREATE INDEX "lb_members_lb" ON "lb_members" USING btree ("loadbalancer_id");--> statement-breakpoint
CREATE INDEX "lb_pools_lb" ON "lb_pools" USING btree ("loadbalancer_id");