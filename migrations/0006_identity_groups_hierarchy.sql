CREATE TABLE "identity_group_assignments" (
	"group_id" text NOT NULL,
	"target_type" text NOT NULL,
	"target_id" text NOT NULL,
	"role_id" text NOT NULL,
	"inherited" boolean DEFAULT false NOT NULL,
	CONSTRAINT "identity_group_assignments_group_id_target_type_target_id_role_id_inherited_pk" PRIMARY KEY("group_id","target_type","target_id","role_id","inherited")
);
--> statement-breakpoint
CREATE TABLE "identity_group_members" (
	"group_id" text NOT NULL,
	"user_id" text NOT NULL,
	CONSTRAINT "identity_group_members_group_id_user_id_pk" PRIMARY KEY("group_id","user_id")
);
--> statement-breakpoint
CREATE TABLE "identity_groups" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"domain_id" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "identity_groups_domain_id_name_unique" UNIQUE("domain_id","name")
);
--> statement-breakpoint
ALTER TABLE "identity_assignments" ADD COLUMN "inherited" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "identity_assignments" DROP CONSTRAINT "identity_assignments_user_id_target_type_target_id_role_id_pk";--> statement-breakpoint
ALTER TABLE "identity_assignments" ADD CONSTRAINT "identity_assignments_user_id_target_type_target_id_role_id_inherited_pk" PRIMARY KEY("user_id","target_type","target_id","role_id","inherited");--> statement-breakpoint
ALTER TABLE "identity_projects" ADD COLUMN "parent_id" text;--> statement-breakpoint
ALTER TABLE "identity_group_assignments" ADD CONSTRAINT "identity_group_assignments_group_id_identity_groups_id_fk" FOREIGN KEY ("group_id") REFERENCES "public"."identity_groups"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "identity_group_assignments" ADD CONSTRAINT "identity_group_assignments_role_id_identity_roles_id_fk" FOREIGN KEY ("role_id") REFERENCES "public"."identity_roles"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "identity_group_members" ADD CONSTRAINT "identity_group_members_group_id_identity_groups_id_fk" FOREIGN KEY ("group_id") REFERENCES "public"."identity_groups"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "identity_group_members" ADD CONSTRAINT "identity_group_members_user_id_identity_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."identity_users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "identity_groups" ADD CONSTRAINT "identity_groups_domain_id_identity_domains_id_fk" FOREIGN KEY ("domain_id") REFERENCES "public"."identity_domains"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "identity_group_assignments_target_id_index" ON "identity_group_assignments" USING btree ("target_id");--> statement-breakpoint
CREATE INDEX "identity_group_members_user_id_index" ON "identity_group_members" USING btree ("user_id");--> statement-breakpoint
ALTER TABLE "identity_projects" ADD CONSTRAINT "identity_projects_parent_id_identity_projects_id_fk" FOREIGN KEY ("parent_id") REFERENCES "public"."identity_projects"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "identity_projects_parent_id_index" ON "identity_projects" USING btree ("parent_id");