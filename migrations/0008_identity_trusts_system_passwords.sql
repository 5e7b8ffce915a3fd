CREATE TABLE "identity_system_assignments" (
	"user_id" text NOT NULL,
	"role_id" text NOT NULL,
	CONSTRAINT "identity_system_assignments_user_id_role_id_pk" PRIMARY KEY("user_id","role_id")
);
--> statement-breakpoint
CREATE TABLE "identity_trusts" (
	"id" text PRIMARY KEY NOT NULL,
	"trustor_user_id" text NOT NULL,
	"trustee_user_id" text NOT NULL,
	"project_id" text,
	"impersonation" boolean NOT NULL,
	"role_ids" jsonb NOT NULL,
	"expires_at" timestamp with time zone,
	"remaining_uses" integer,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "identity_users" ADD COLUMN "password_expires_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "identity_users" ADD COLUMN "password_history" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
ALTER TABLE "identity_users" ADD COLUMN "failed_auth_count" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "identity_users" ADD COLUMN "failed_auth_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "identity_system_assignments" ADD CONSTRAINT "identity_system_assignments_user_id_identity_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."identity_users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "identity_system_assignments" ADD CONSTRAINT "identity_system_assignments_role_id_identity_roles_id_fk" FOREIGN KEY ("role_id") REFERENCES "public"."identity_roles"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "identity_trusts" ADD CONSTRAINT "identity_trusts_trustor_user_id_identity_users_id_fk" FOREIGN KEY ("trustor_user_id") REFERENCES "public"."identity_users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "identity_trusts" ADD CONSTRAINT "identity_trusts_trustee_user_id_identity_users_id_fk" FOREIGN KEY ("trustee_user_id") REFERENCES "public"."identity_users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "identity_trusts" ADD CONSTRAINT "identity_trusts_project_id_identity_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."identity_projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "identity_trusts_trustor_user_id_index" ON "identity_trusts" USING btree ("trustor_user_id");--> statement-breakpoint
CREATE INDEX "identity_trusts_trustee_user_id_index" ON "identity_trusts" USING btree ("trustee_user_id");--> statement-breakpoint
INSERT INTO "identity_system_assignments" ("user_id", "role_id") SELECT u."id", r."id" FROM "identity_users" u, "identity_roles" r WHERE u."name" = 'admin' AND u."domain_id" = 'default' AND r."name" = 'admin' ON CONFLICT DO NOTHING;
