CREATE TABLE "compute_host_calls" (
	"id" serial PRIMARY KEY NOT NULL,
	"host" text NOT NULL,
	"server_id" text NOT NULL,
	"call" text NOT NULL,
	"lines" integer,
	"output" text,
	"error" text,
	"answered_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
-- A host's role sees and answers only the calls to its own host: a console's output is the
-- server's owner's to read, not another host's.
ALTER TABLE "compute_host_calls" ENABLE ROW LEVEL SECURITY;--> statement-breakpoint
CREATE POLICY "reads" ON "compute_host_calls" FOR SELECT USING (host_may_write(host));--> statement-breakpoint
CREATE POLICY "writes" ON "compute_host_calls" FOR ALL USING (host_may_write(host)) WITH CHECK (host_may_write(host));
