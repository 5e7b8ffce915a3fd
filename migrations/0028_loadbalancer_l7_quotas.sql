CREATE TABLE "lb_l7policies" (
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
	"listener_id" text NOT NULL,
	"action" text NOT NULL,
	"position" integer NOT NULL,
	"redirect_pool_id" text,
	"redirect_url" text,
	"redirect_prefix" text,
	"redirect_http_code" integer
);
--> statement-breakpoint
CREATE TABLE "lb_l7rules" (
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
	"l7policy_id" text NOT NULL,
	"type" text NOT NULL,
	"compare_type" text NOT NULL,
	"key" text,
	"value" text NOT NULL,
	"invert" boolean DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE TABLE "lb_quotas" (
	"project_id" text PRIMARY KEY NOT NULL,
	"load_balancer" integer,
	"listener" integer,
	"pool" integer,
	"health_monitor" integer,
	"member" integer,
	"l7policy" integer,
	"l7rule" integer
);
--> statement-breakpoint
CREATE INDEX "lb_l7policies_lb" ON "lb_l7policies" USING btree ("loadbalancer_id");--> statement-breakpoint
CREATE INDEX "lb_l7policies_listener" ON "lb_l7policies" USING btree ("listener_id");--> statement-breakpoint
CREATE INDEX "lb_l7rules_lb" ON "lb_l7rules" USING btree ("loadbalancer_id");--> statement-breakpoint
CREATE INDEX "lb_l7rules_policy" ON "lb_l7rules" USING btree ("l7policy_id");