-- Custom migration. appendMessage in one statement: the same steps as the SQLite adapter's
-- insertMessage (dedupe, ownership, seq, history row, message row), run server-side so an append
-- costs one round trip instead of seven. Under READ COMMITTED each statement of a VOLATILE
-- function sees what concurrent transactions committed before it, so the ownership re-read works
-- as in TypeScript. A message id inserted concurrently by another instance raises
-- serialization_failure: the statement rolls back and the client runs it again (then: duplicate).
CREATE FUNCTION "lifeline_append_message"(
	p_id text, p_thread text, p_user text, p_role text, p_content text, p_metadata text,
	p_now bigint, p_payload text, p_search text
) RETURNS TABLE (result_kind text, result_seq bigint) LANGUAGE plpgsql VOLATILE AS $$
DECLARE
	found_thread text;
	found_user text;
	found_seq bigint;
	owner text;
	new_seq bigint;
BEGIN
	SELECT m.thread_id, m.user_id, m.seq INTO found_thread, found_user, found_seq
		FROM messages m WHERE m.id = p_id;
	IF FOUND THEN
		IF found_user = p_user AND found_thread = p_thread THEN
			RETURN QUERY SELECT 'duplicate'::text, found_seq;
			RETURN;
		END IF;
		SELECT t.user_id INTO owner FROM threads t WHERE t.id = p_thread;
		IF owner IS NOT NULL AND owner <> p_user THEN
			RETURN QUERY SELECT 'forbidden_thread'::text, NULL::bigint;
		ELSE
			RETURN QUERY SELECT 'conflict'::text, NULL::bigint;
		END IF;
		RETURN;
	END IF;
	INSERT INTO threads (id, user_id, created_at) VALUES (p_thread, p_user, p_now)
		ON CONFLICT (id) DO NOTHING;
	SELECT t.user_id INTO owner FROM threads t WHERE t.id = p_thread;
	IF owner IS DISTINCT FROM p_user THEN
		RETURN QUERY SELECT 'forbidden_thread'::text, NULL::bigint;
		RETURN;
	END IF;
	INSERT INTO user_seq AS u (user_id, last_seq) VALUES (p_user, 1)
		ON CONFLICT (user_id) DO UPDATE SET last_seq = u.last_seq + 1
		RETURNING u.last_seq INTO new_seq;
	INSERT INTO history (user_id, seq, type, payload, created_at)
		VALUES (p_user, new_seq, 'message', p_payload, p_now);
	INSERT INTO messages (id, thread_id, user_id, role, content, metadata, created_at, seq, state, search)
		VALUES (p_id, p_thread, p_user, p_role, p_content, p_metadata, p_now, new_seq, 'pending',
			to_tsvector('simple', p_search))
		ON CONFLICT (id) DO NOTHING;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'message % was inserted concurrently', p_id
			USING ERRCODE = 'serialization_failure';
	END IF;
	RETURN QUERY SELECT 'ok'::text, new_seq;
END;
$$;
