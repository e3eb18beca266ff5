ALTER TABLE "breaker_state" ADD COLUMN "version" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "breaker_state" ADD COLUMN "probe_version" bigint;--> statement-breakpoint
ALTER TABLE "breaker_state" ADD COLUMN "probes" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "breaker_state" ADD COLUMN "probe_until" bigint;--> statement-breakpoint
ALTER TABLE "threads" ADD COLUMN "leased_by" text;--> statement-breakpoint
ALTER TABLE "threads" ADD COLUMN "lease_until" bigint;