CREATE TABLE "compute_host_roles" (
	"role_name" text PRIMARY KEY NOT NULL,
	"host" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "compute_host_roles_host_unique" UNIQUE("host")
);
--> statement-breakpoint
-- Row-level security for the PostgreSQL roles of `nubo agent` hosts (compute_host_roles; their
-- table grants are made by `nubo host-credential create`). A listed role reads every row (agents
-- need other hosts' ports, networks and servers) and writes only its own host's. Every other role
-- is left as it was: the controllers' role owns these tables and bypasses the policies, PGlite's
-- one user is a superuser. The functions' bodies are SQL-standard, bound when made, so that no
-- search_path (nor a temporary table of the same name) changes what they read.
CREATE FUNCTION "host_role_host"() RETURNS text LANGUAGE sql STABLE
  RETURN (SELECT r.host FROM compute_host_roles r WHERE r.role_name = current_user);--> statement-breakpoint
CREATE FUNCTION "host_may_write"("host" text) RETURNS boolean LANGUAGE sql STABLE
  RETURN host_role_host() IS NULL OR coalesce(host = host_role_host(), false);--> statement-breakpoint
-- While a server moves, the two hosts its latest migration names may both write it.
CREATE FUNCTION "host_migrating"("server_id" text, "host" text) RETURNS boolean LANGUAGE sql STABLE
  RETURN EXISTS (SELECT 1 FROM compute_migrations m WHERE m.server_id = host_migrating.server_id
    AND m.id = (SELECT max(l.id) FROM compute_migrations l WHERE l.server_id = host_migrating.server_id)
    AND host_role_host() IN (m.source_compute, m.dest_compute) AND host_migrating.host IN (m.source_compute, m.dest_compute));--> statement-breakpoint
CREATE FUNCTION "host_may_write_server"("server_id" text) RETURNS boolean LANGUAGE sql STABLE
  RETURN host_role_host() IS NULL OR EXISTS (SELECT 1 FROM compute_servers s WHERE s.id = host_may_write_server.server_id AND s.host = host_role_host());--> statement-breakpoint
ALTER TABLE "compute_servers" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE POLICY "reads" ON "compute_servers" FOR SELECT USING (true);--> statement-breakpoint
CREATE POLICY "inserts" ON "compute_servers" FOR INSERT WITH CHECK (host_role_host() IS NULL);--> statement-breakpoint
CREATE POLICY "updates" ON "compute_servers" FOR UPDATE USING (host_may_write(host) OR host_migrating(id, host)) WITH CHECK (host_may_write(host) OR host_migrating(id, host));--> statement-breakpoint
CREATE POLICY "deletes" ON "compute_servers" FOR DELETE USING (host_may_write(host));--> statement-breakpoint
ALTER TABLE "compute_hosts" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE POLICY "reads" ON "compute_hosts" FOR SELECT USING (true);--> statement-breakpoint
CREATE POLICY "writes" ON "compute_hosts" FOR ALL USING (host_may_write(name)) WITH CHECK (host_may_write(name));--> statement-breakpoint
ALTER TABLE "compute_services" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE POLICY "reads" ON "compute_services" FOR SELECT USING (true);--> statement-breakpoint
CREATE POLICY "writes" ON "compute_services" FOR ALL USING (host_may_write(host)) WITH CHECK (host_may_write(host));--> statement-breakpoint
ALTER TABLE "network_agents" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE POLICY "reads" ON "network_agents" FOR SELECT USING (true);--> statement-breakpoint
CREATE POLICY "writes" ON "network_agents" FOR ALL USING (host_may_write(host)) WITH CHECK (host_may_write(host));--> statement-breakpoint
-- A server's port is its host's; the ports of DHCP servers and routers any host's agent serves, for now.
ALTER TABLE "network_ports" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE POLICY "reads" ON "network_ports" FOR SELECT USING (true);--> statement-breakpoint
CREATE POLICY "writes" ON "network_ports" FOR ALL USING (device_owner NOT LIKE 'compute:%' OR host_may_write(host_id)) WITH CHECK (device_owner NOT LIKE 'compute:%' OR host_may_write(host_id));--> statement-breakpoint
ALTER TABLE "compute_migrations" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE POLICY "reads" ON "compute_migrations" FOR SELECT USING (true);--> statement-breakpoint
CREATE POLICY "writes" ON "compute_migrations" FOR ALL USING (host_may_write(source_compute) OR host_may_write(dest_compute)) WITH CHECK (host_may_write(source_compute) OR host_may_write(dest_compute));--> statement-breakpoint
ALTER TABLE "compute_instance_actions" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE POLICY "reads" ON "compute_instance_actions" FOR SELECT USING (true);--> statement-breakpoint
CREATE POLICY "writes" ON "compute_instance_actions" FOR ALL USING (host_may_write_server(server_id)) WITH CHECK (host_may_write_server(server_id));--> statement-breakpoint
ALTER TABLE "compute_instance_action_events" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE POLICY "reads" ON "compute_instance_action_events" FOR SELECT USING (true);--> statement-breakpoint
CREATE POLICY "writes" ON "compute_instance_action_events" FOR ALL
  USING (host_may_write_server((SELECT a.server_id FROM compute_instance_actions a WHERE a.id = action_id)))
  WITH CHECK (host_may_write_server((SELECT a.server_id FROM compute_instance_actions a WHERE a.id = action_id)));--> statement-breakpoint
ALTER TABLE "compute_snapshots" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE POLICY "reads" ON "compute_snapshots" FOR SELECT USING (true);--> statement-breakpoint
CREATE POLICY "writes" ON "compute_snapshots" FOR ALL USING (host_may_write_server(server_id)) WITH CHECK (host_may_write_server(server_id));--> statement-breakpoint
ALTER TABLE "volume_attachments" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE POLICY "reads" ON "volume_attachments" FOR SELECT USING (true);--> statement-breakpoint
CREATE POLICY "writes" ON "volume_attachments" FOR ALL USING (host_may_write_server(instance_uuid)) WITH CHECK (host_may_write_server(instance_uuid));
