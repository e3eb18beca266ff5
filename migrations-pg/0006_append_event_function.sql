-- Custom migration. appendEvent as a function, so several events can be written in one statement
-- (group commit, storage/pg-batch.ts): each call takes the user's next seq (the upsert's row lock
-- serialises the user's writers across instances until COMMIT) and writes the history row. Two
-- calls for one user in one statement are two statements inside the function, so the second sees
-- the first's increment (one INSERT … ON CONFLICT cannot update a row twice).
CREATE FUNCTION "lifeline_append_event"(
	p_user text, p_type text, p_payload text, p_now bigint
) RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	new_seq bigint;
BEGIN
	INSERT INTO user_seq AS u (user_id, last_seq) VALUES (p_user, 1)
		ON CONFLICT (user_id) DO UPDATE SET last_seq = u.last_seq + 1
		RETURNING u.last_seq INTO new_seq;
	INSERT INTO history (user_id, seq, type, payload, created_at)
		VALUES (p_user, new_seq, p_type, p_payload, p_now);
	RETURN new_seq;
END;
$$;
