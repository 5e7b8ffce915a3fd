ALTER TABLE "network_ports" ADD COLUMN "migrating_to" text;--> statement-breakpoint
ALTER TABLE "network_ports" ADD COLUMN "migrating_status" text;--> statement-breakpoint
-- While a server moves live, the two hosts its latest migration names may both write its ports:
-- the destination writes how it has wired them, and the switch-over binds them to it.
ALTER POLICY "writes" ON "network_ports"
  USING (device_owner NOT LIKE 'compute:%' OR host_may_write(host_id) OR host_migrating(device_id, host_id))
  WITH CHECK (device_owner NOT LIKE 'compute:%' OR host_may_write(host_id) OR host_migrating(device_id, host_id));
