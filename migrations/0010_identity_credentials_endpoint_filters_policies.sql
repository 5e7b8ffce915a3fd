CREATE TABLE "identity_credentials" (
	"id" text PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"project_id" text,
	"type" text NOT NULL,
	"encrypted_blob" text NOT NULL,
	"key_hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "identity_endpoint_groups" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"description" text,
	"filters" jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "identity_policies" (
	"id" text PRIMARY KEY NOT NULL,
	"type" text NOT NULL,
	"blob" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "identity_project_endpoint_groups" (
	"endpoint_group_id" text NOT NULL,
	"project_id" text NOT NULL,
	CONSTRAINT "identity_project_endpoint_groups_endpoint_group_id_project_id_pk" PRIMARY KEY("endpoint_group_id","project_id")
);
--> statement-breakpoint
CREATE TABLE "identity_project_endpoints" (
	"endpoint_id" text NOT NULL,
	"project_id" text NOT NULL,
	CONSTRAINT "identity_project_endpoints_endpoint_id_project_id_pk" PRIMARY KEY("endpoint_id","project_id")
);
--> statement-breakpoint
ALTER TABLE "identity_credentials" ADD CONSTRAINT "identity_credentials_user_id_identity_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."identity_users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "identity_credentials" ADD CONSTRAINT "identity_credentials_project_id_identity_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."identity_projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "identity_project_endpoint_groups" ADD CONSTRAINT "identity_project_endpoint_groups_endpoint_group_id_identity_endpoint_groups_id_fk" FOREIGN KEY ("endpoint_group_id") REFERENCES "public"."identity_endpoint_groups"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "identity_project_endpoint_groups" ADD CONSTRAINT "identity_project_endpoint_groups_project_id_identity_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."identity_projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "identity_project_endpoints" ADD CONSTRAINT "identity_project_endpoints_endpoint_id_identity_endpoints_id_fk" FOREIGN KEY ("endpoint_id") REFERENCES "public"."identity_endpoints"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "identity_project_endpoints" ADD CONSTRAINT "identity_project_endpoints_project_id_identity_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."identity_projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "identity_credentials_user_id_index" ON "identity_credentials" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "identity_project_endpoint_groups_project_id_index" ON "identity_project_endpoint_groups" USING btree ("project_id");--> statement-breakpoint
CREATE INDEX "identity_project_endpoints_project_id_index" ON "identity_project_endpoints" USING btree ("project_id");--> statement-breakpoint
ALTER TABLE "identity_regions" ADD CONSTRAINT "identity_regions_parent_region_id_identity_regions_id_fk" FOREIGN KEY ("parent_region_id") REFERENCES "public"."identity_regions"("id") ON DELETE cascade ON UPDATE no action;