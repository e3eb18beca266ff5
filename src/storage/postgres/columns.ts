/**
 * @module PostgreSQL: how a message row is selected. Its own file so that the message log
 * (messages.ts, which writes the search document) and the search (search.ts, which reads message
 * rows) both import it without importing each other.
 */

/** Columns of a message row as a StoredMessage-shaped record (metadata still JSON text). */
export const MESSAGE_COLUMNS = `m.id AS "id", m.thread_id AS "threadId", m.user_id AS "userId",
  m.role AS "role", m.content AS "content", m.metadata AS "metadata",
  m.created_at::float8 AS "createdAtWallMs", m.seq::float8 AS "seq"`;
