-- Custom migration. Announce every new version of a shared breaker row on the lifeline_breaker
-- channel (cluster breaker, memory/cluster-breaker.ts): when one instance opens the circuit the
-- others read the row at once instead of at their next 1 s poll (which stays, for a lost
-- notification). Sent inside the writing transaction, so only committed versions travel. The
-- payload is a reference (backend, version, the writer's application_name): listeners read the row.
CREATE FUNCTION "lifeline_breaker_notify"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('lifeline_breaker', json_build_object(
		'b', NEW.backend, 'v', NEW.version, 'o', current_setting('application_name'))::text);
	RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER "breaker_state_notify" AFTER INSERT OR UPDATE OF "version" ON "breaker_state"
	FOR EACH ROW EXECUTE FUNCTION "lifeline_breaker_notify"();
