CREATE TABLE "compute_migration_keys" (
	"migration_id" integer PRIMARY KEY NOT NULL,
	"psk" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "compute_migration_keys" ADD CONSTRAINT "compute_migration_keys_migration_id_compute_migrations_id_fk" FOREIGN KEY ("migration_id") REFERENCES "public"."compute_migrations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
-- A migration's key is its two hosts' alone: a third host that read it could read or forge the
-- guest's memory and disk as they cross the network.
CREATE FUNCTION "host_of_migration"("migration_id" integer) RETURNS boolean LANGUAGE sql STABLE
  RETURN EXISTS (SELECT 1 FROM compute_migrations m WHERE m.id = host_of_migration.migration_id
    AND (host_may_write(m.source_compute) OR host_may_write(m.dest_compute)));--> statement-breakpoint
ALTER TABLE "compute_migration_keys" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE POLICY "hosts" ON "compute_migration_keys" FOR ALL USING (host_of_migration(migration_id)) WITH CHECK (host_of_migration(migration_id));
