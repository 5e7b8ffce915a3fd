CREATE TABLE "network_qos_policies" (
	"id" text PRIMARY KEY NOT NULL,
	"project_id" text NOT NULL,
	"name" text DEFAULT '' NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"shared" boolean DEFAULT false NOT NULL,
	"is_default" boolean DEFAULT false NOT NULL,
	"revision_number" integer DEFAULT 0 NOT NULL,
	"tags" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "network_qos_rules" (
	"id" text PRIMARY KEY NOT NULL,
	"policy_id" text NOT NULL,
	"type" text NOT NULL,
	"direction" text DEFAULT 'egress' NOT NULL,
	"max_kbps" integer,
	"max_burst_kbps" integer,
	"dscp_mark" integer,
	"min_kbps" integer,
	CONSTRAINT "network_qos_rules_kind" UNIQUE("policy_id","type","direction")
);
--> statement-breakpoint
ALTER TABLE "network_networks" ADD COLUMN "qos_policy_id" text;--> statement-breakpoint
ALTER TABLE "network_ports" ADD COLUMN "extra_dhcp_opts" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "network_ports" ADD COLUMN "qos_policy_id" text;--> statement-breakpoint
ALTER TABLE "network_qos_rules" ADD CONSTRAINT "network_qos_rules_policy_id_network_qos_policies_id_fk" FOREIGN KEY ("policy_id") REFERENCES "public"."network_qos_policies"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "network_qos_policies_project" ON "network_qos_policies" USING btree ("project_id");--> statement-breakpoint
CREATE UNIQUE INDEX "network_qos_policies_default" ON "network_qos_policies" USING btree ("project_id") WHERE "network_qos_policies"."is_default";--> statement-breakpoint
ALTER TABLE "network_networks" ADD CONSTRAINT "network_networks_qos_policy_id_network_qos_policies_id_fk" FOREIGN KEY ("qos_policy_id") REFERENCES "public"."network_qos_policies"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "network_ports" ADD CONSTRAINT "network_ports_qos_policy_id_network_qos_policies_id_fk" FOREIGN KEY ("qos_policy_id") REFERENCES "public"."network_qos_policies"("id") ON DELETE restrict ON UPDATE no action;