CREATE TABLE "identity_application_credentials" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"user_id" text NOT NULL,
	"project_id" text NOT NULL,
	"secret_hash" text NOT NULL,
	"description" text,
	"expires_at" timestamp with time zone,
	"unrestricted" boolean DEFAULT false NOT NULL,
	"role_ids" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "identity_application_credentials_user_id_name_unique" UNIQUE("user_id","name")
);
--> statement-breakpoint
CREATE TABLE "identity_assignments" (
	"user_id" text NOT NULL,
	"target_type" text NOT NULL,
	"target_id" text NOT NULL,
	"role_id" text NOT NULL,
	CONSTRAINT "identity_assignments_user_id_target_type_target_id_role_id_pk" PRIMARY KEY("user_id","target_type","target_id","role_id")
);
--> statement-breakpoint
CREATE TABLE "identity_domains" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "identity_domains_name_unique" UNIQUE("name")
);
--> statement-breakpoint
CREATE TABLE "identity_endpoints" (
	"id" text PRIMARY KEY NOT NULL,
	"service_id" text NOT NULL,
	"interface" text NOT NULL,
	"region_id" text,
	"url" text NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL
);
--> statement-breakpoint
CREATE TABLE "identity_projects" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"domain_id" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"tags" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "identity_projects_domain_id_name_unique" UNIQUE("domain_id","name")
);
--> statement-breakpoint
CREATE TABLE "identity_regions" (
	"id" text PRIMARY KEY NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"parent_region_id" text
);
--> statement-breakpoint
CREATE TABLE "identity_revocations" (
	"id" serial PRIMARY KEY NOT NULL,
	"audit_id" text,
	"user_id" text,
	"project_id" text,
	"issued_before" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "identity_roles" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"description" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "identity_roles_name_unique" UNIQUE("name")
);
--> statement-breakpoint
CREATE TABLE "identity_services" (
	"id" text PRIMARY KEY NOT NULL,
	"type" text NOT NULL,
	"name" text NOT NULL,
	"description" text,
	"enabled" boolean DEFAULT true NOT NULL
);
--> statement-breakpoint
CREATE TABLE "identity_token_keys" (
	"id" integer PRIMARY KEY NOT NULL,
	"key" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "identity_users" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"domain_id" text NOT NULL,
	"password_hash" text,
	"enabled" boolean DEFAULT true NOT NULL,
	"default_project_id" text,
	"description" text,
	"email" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "identity_users_domain_id_name_unique" UNIQUE("domain_id","name")
);
--> statement-breakpoint
ALTER TABLE "identity_application_credentials" ADD CONSTRAINT "identity_application_credentials_user_id_identity_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."identity_users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "identity_application_credentials" ADD CONSTRAINT "identity_application_credentials_project_id_identity_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."identity_projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "identity_assignments" ADD CONSTRAINT "identity_assignments_user_id_identity_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."identity_users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "identity_assignments" ADD CONSTRAINT "identity_assignments_role_id_identity_roles_id_fk" FOREIGN KEY ("role_id") REFERENCES "public"."identity_roles"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "identity_endpoints" ADD CONSTRAINT "identity_endpoints_service_id_identity_services_id_fk" FOREIGN KEY ("service_id") REFERENCES "public"."identity_services"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "identity_endpoints" ADD CONSTRAINT "identity_endpoints_region_id_identity_regions_id_fk" FOREIGN KEY ("region_id") REFERENCES "public"."identity_regions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "identity_projects" ADD CONSTRAINT "identity_projects_domain_id_identity_domains_id_fk" FOREIGN KEY ("domain_id") REFERENCES "public"."identity_domains"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "identity_users" ADD CONSTRAINT "identity_users_domain_id_identity_domains_id_fk" FOREIGN KEY ("domain_id") REFERENCES "public"."identity_domains"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "identity_assignments_target_id_index" ON "identity_assignments" USING btree ("target_id");