CREATE TABLE "cluster_members" (
	"instance_id" text PRIMARY KEY NOT NULL,
	"address" text NOT NULL,
	"started_at" bigint NOT NULL,
	"last_seen" bigint NOT NULL
);
--> statement-breakpoint
-- Custom: announce every committed history event on the lifeline_history channel (cluster
-- fan-out, storage/pg-notify.ts). pg_notify inside the writing transaction is delivered on commit
-- only, in commit order. The payload is a reference (user, seq, the writer's application_name),
-- never content: far below the 8,000-byte limit.
CREATE FUNCTION "lifeline_history_notify"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('lifeline_history', json_build_object(
		'u', NEW.user_id, 's', NEW.seq, 'o', current_setting('application_name'))::text);
	RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER "history_notify" AFTER INSERT ON "history"
	FOR EACH ROW EXECUTE FUNCTION "lifeline_history_notify"();
