ALTER TABLE "compute_hosts" ADD COLUMN "arch" text DEFAULT 'x86_64' NOT NULL;--> statement-breakpoint
ALTER TABLE "compute_hosts" ADD COLUMN "host_ip" text;--> statement-breakpoint
ALTER TABLE "compute_hosts" ADD COLUMN "tunnel_ip" text;--> statement-breakpoint
ALTER TABLE "compute_services" ADD COLUMN "heartbeat_at" timestamp with time zone DEFAULT now() NOT NULL;