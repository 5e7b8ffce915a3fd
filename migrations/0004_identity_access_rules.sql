CREATE TABLE "identity_access_rules" (
	"id" text PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"service" text NOT NULL,
	"method" text NOT NULL,
	"path" text NOT NULL,
	CONSTRAINT "identity_access_rules_user_id_service_method_path_unique" UNIQUE("user_id","service","method","path")
);
--> statement-breakpoint
CREATE TABLE "identity_app_credential_rules" (
	"credential_id" text NOT NULL,
	"rule_id" text NOT NULL,
	"position" integer NOT NULL,
	CONSTRAINT "identity_app_credential_rules_credential_id_rule_id_pk" PRIMARY KEY("credential_id","rule_id")
);
--> statement-breakpoint
ALTER TABLE "identity_access_rules" ADD CONSTRAINT "identity_access_rules_user_id_identity_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."identity_users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "identity_app_credential_rules" ADD CONSTRAINT "identity_app_credential_rules_credential_id_identity_application_credentials_id_fk" FOREIGN KEY ("credential_id") REFERENCES "public"."identity_application_credentials"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "identity_app_credential_rules" ADD CONSTRAINT "identity_app_credential_rules_rule_id_identity_access_rules_id_fk" FOREIGN KEY ("rule_id") REFERENCES "public"."identity_access_rules"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "identity_app_credential_rules_rule_id_index" ON "identity_app_credential_rules" USING btree ("rule_id");