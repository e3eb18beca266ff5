CREATE TABLE "turns" (
	"turn_id" text PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"thread_id" text NOT NULL,
	"message_id" text NOT NULL,
	"message_seq" bigint NOT NULL,
	"status" text NOT NULL,
	"attempt" integer DEFAULT 0 NOT NULL,
	"reply_id" text,
	"text" text DEFAULT '' NOT NULL,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL,
	"next_attempt_at" bigint,
	"error" text
);
--> statement-breakpoint
ALTER TABLE "threads" ADD COLUMN "turns_leased_by" text;--> statement-breakpoint
ALTER TABLE "threads" ADD COLUMN "turns_lease_until" bigint;--> statement-breakpoint
ALTER TABLE "turns" ADD CONSTRAINT "turns_thread_id_threads_id_fk" FOREIGN KEY ("thread_id") REFERENCES "public"."threads"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "turns_message" ON "turns" USING btree ("message_id");--> statement-breakpoint
CREATE INDEX "turns_open" ON "turns" USING btree ("status","thread_id","message_seq");