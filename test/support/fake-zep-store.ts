/**
 * @module The fake Zep server's in-memory data: users, sessions (with soft delete), messages
 * deduplicated by UUID, and the delivery log the no-loss checker reads
 * (docs/faults.md#no-loss-checker).
 */

/** JSON object metadata as Zep stores it. */
export type Meta = Record<string, unknown>;

/** A stored user (the union of the v1 and v2 wire fields). */
export interface StoredUser {
  uuid: string;
  id: number;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
  user_id: string;
  email?: string;
  first_name?: string;
  last_name?: string;
  metadata?: Meta;
}

/** A stored message; `role_type` is only set by v2 writes. */
export interface StoredMessage {
  uuid: string;
  created_at: string;
  updated_at: string;
  role: string;
  role_type?: string;
  /** v3 only: the speaker's name (v3's `role` is the role enum). */
  name?: string;
  content: string;
  metadata?: Meta;
  token_count: number;
}

/** A stored session; `deleted_at` set means soft-deleted (GET 404, create 400, add revives). */
export interface StoredSession {
  uuid: string;
  id: number;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
  session_id: string;
  user_id: string | null;
  metadata: Meta | null;
  messages: StoredMessage[];
}

/** One message arrival at the fake: every accepted add appends one per message, duplicates too. */
export interface Delivery {
  /** The UUID the client sent, or one the fake made up when the client sent none. */
  readonly uuid: string;
  readonly sessionId: string;
  /** 0-based position in the fake's whole delivery log. */
  readonly arrivalIndex: number;
  /** False when the client sent no `uuid` (then the arrival cannot be deduplicated). */
  readonly clientUuid: boolean;
}

/** Go's zero time, as Zep writes it for empty summaries. */
export const ZERO_TIME = '0001-01-01T00:00:00Z';
/** The all-zero UUID Zep writes for empty summaries. */
export const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

/** The data behind one fake server; survives `refuse`/heal cycles. */
export class FakeZepStore {
  readonly users = new Map<string, StoredUser>();
  readonly sessions = new Map<string, StoredSession>();
  readonly deliveryLog: Delivery[] = [];
  private nextId = 1;

  /** Current wall time in Zep's RFC 3339 form. */
  now(): string {
    return new Date().toISOString();
  }

  /** Creates a user; the caller has checked for duplicates. */
  addUser(fields: Omit<StoredUser, 'uuid' | 'id' | 'created_at' | 'updated_at' | 'deleted_at'>) {
    const at = this.now();
    const user: StoredUser = {
      uuid: crypto.randomUUID(),
      id: this.nextId++,
      created_at: at,
      updated_at: at,
      deleted_at: null,
      ...fields,
    };
    this.users.set(user.user_id, user);
    return user;
  }

  /** Creates a session; the caller has checked for duplicates and the user. */
  addSession(sessionId: string, userId: string | null, metadata: Meta | null) {
    const at = this.now();
    const session: StoredSession = {
      uuid: crypto.randomUUID(),
      id: this.nextId++,
      created_at: at,
      updated_at: at,
      deleted_at: null,
      session_id: sessionId,
      user_id: userId,
      metadata,
      messages: [],
    };
    this.sessions.set(sessionId, session);
    return session;
  }

  /** A session that exists and is not soft-deleted. */
  liveSession(sessionId: string): StoredSession | undefined {
    const session = this.sessions.get(sessionId);
    return session && session.deleted_at === null ? session : undefined;
  }

  /** Soft-deletes a session and hides its messages; false if there was no live session. */
  softDelete(sessionId: string): boolean {
    const session = this.liveSession(sessionId);
    if (!session) return false;
    session.deleted_at = this.now();
    session.messages = [];
    return true;
  }

  /**
   * Stores messages for a session, creating it (no user) if missing and reviving it if deleted,
   * as both v1 and CE do. Messages whose UUID is already stored are updated, not added twice;
   * every message is still appended to the delivery log.
   */
  addMessages(sessionId: string, messages: Array<Omit<StoredMessage, 'uuid'> & { uuid?: string }>) {
    const session = this.sessions.get(sessionId) ?? this.addSession(sessionId, null, null);
    session.deleted_at = null;
    for (const incoming of messages) {
      const uuid = incoming.uuid ?? crypto.randomUUID();
      this.deliveryLog.push({
        uuid,
        sessionId,
        arrivalIndex: this.deliveryLog.length,
        clientUuid: incoming.uuid !== undefined,
      });
      const message = { ...incoming, uuid };
      const existing = session.messages.findIndex((m) => m.uuid === uuid);
      if (existing >= 0) session.messages[existing] = message;
      else session.messages.push(message);
    }
    session.updated_at = this.now();
  }
}

/** Splits text into lower-case word terms for the fake's search. */
function terms(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
}

/**
 * Scores a message against a query in [0, 1]: 1 for a case-insensitive substring match, else the
 * share of query terms found among the message's terms. 0 means no match.
 */
export function scoreMatch(query: string, content: string): number {
  const q = query.trim().toLowerCase();
  if (q === '') return 0;
  if (content.toLowerCase().includes(q)) return 1;
  const wanted = terms(q);
  if (wanted.length === 0) return 0;
  const have = new Set(terms(content));
  return wanted.filter((t) => have.has(t)).length / wanted.length;
}

/** Searches the given sessions' messages, best score first, ties in arrival order. */
export function searchMessages(
  store: FakeZepStore,
  sessionIds: readonly string[],
  text: string,
  limit: number,
) {
  const hits: Array<{ sessionId: string; message: StoredMessage; score: number }> = [];
  for (const sessionId of sessionIds) {
    for (const message of store.liveSession(sessionId)?.messages ?? []) {
      const score = scoreMatch(text, message.content);
      if (score > 0) hits.push({ sessionId, message, score });
    }
  }
  return hits.sort((a, b) => b.score - a.score).slice(0, limit);
}
