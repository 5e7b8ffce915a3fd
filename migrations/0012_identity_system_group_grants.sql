CREATE TABLE "identity_system_group_assignments" (
	"group_id" text NOT NULL,
	"role_id" text NOT NULL,
	CONSTRAINT "identity_system_group_assignments_group_id_role_id_pk" PRIMARY KEY("group_id","role_id")
);
--> statement-breakpoint
ALTER TABLE "identity_system_group_assignments" ADD CONSTRAINT "identity_system_group_assignments_group_id_identity_groups_id_fk" FOREIGN KEY ("group_id") REFERENCES "public"."identity_groups"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "identity_system_group_assignments" ADD CONSTRAINT "identity_system_group_assignments_role_id_identity_roles_id_fk" FOREIGN KEY ("role_id") REFERENCES "public"."identity_roles"("id") ON DELETE cascade ON UPDATE no action;