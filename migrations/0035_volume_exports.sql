CREATE TABLE "compute_host_keys" (
	"host" text PRIMARY KEY NOT NULL,
	"psk" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "volume_volumes" ADD COLUMN "nbd_export" jsonb;--> statement-breakpoint
-- A host's role reads and writes only its own key: another host that read it could open the
-- volumes of this host's guests.
ALTER TABLE "compute_host_keys" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE POLICY "own" ON "compute_host_keys" FOR ALL USING (host_may_write(host)) WITH CHECK (host_may_write(host));
