/**
 * @module The embedded memory backend (docs/design.md#memory, the default): the message log in
 * SQLite is the memory, and its FTS5 index is filled by a trigger in the same transaction that
 * commits a message. So `addMessages` has nothing left to do, and search works with no network at
 * all.
 */
import { describeError } from '../lib/errors.ts';
import { isBlank } from '../lib/text.ts';
import type { LocalMemoryStore, MessageStore } from '../storage/store.ts';
import type {
  MemoryBackend,
  MemoryHit,
  MemoryMessage,
  MemoryOutcome,
  MemoryRecord,
} from './client.ts';
import { answer, failure, rejected } from './client.ts';
import { checkMessageList } from './guards.ts';

/** The store methods the local backend reads. */
type LocalBackendStore = Pick<MessageStore, 'recentMessages'> & LocalMemoryStore;

/** Memory on lifeline's own SQLite database. */
export class LocalBackend implements MemoryBackend {
  readonly name = 'local' as const;
  /** Delivery is a no-op, so a batch can be as large as the outbox makes it. */
  readonly maxBatchMessages = Number.POSITIVE_INFINITY;
  /** The FTS5 trigger indexes each message in the transaction that stores it. */
  readonly deliversAtCommit = true;

  constructor(private readonly store: LocalBackendStore) {}

  /** The messages are already stored and indexed at commit; only the guard applies. */
  async addMessages(
    _threadId: string,
    _userId: string,
    messages: MemoryMessage[],
  ): Promise<MemoryOutcome<void>> {
    const problem = checkMessageList(messages, Number.POSITIVE_INFINITY);
    return problem === null
      ? answer(undefined)
      : rejected(0, `${problem.code}: ${problem.message}`);
  }

  recentMessages(threadId: string, limit: number): Promise<MemoryOutcome<MemoryRecord[]>> {
    if (limit <= 0) return Promise.resolve(answer([]));
    return this.guarded(async () => {
      const rows = await this.store.recentMessages(threadId, limit);
      return rows.map((m) => ({ uuid: m.id, role: m.role, content: m.content }));
    });
  }

  search(
    threadId: string,
    _userId: string,
    query: string,
    limit: number,
  ): Promise<MemoryOutcome<MemoryHit[]>> {
    if (isBlank(query) || limit <= 0) return Promise.resolve(answer([]));
    return this.guarded(async () => {
      const hits = await this.store.searchLocal(threadId, query, limit);
      return hits.map((h) => ({
        kind: 'message' as const,
        uuid: h.message.id,
        role: h.message.role,
        content: h.message.content,
        score: h.score,
      }));
    });
  }

  deleteThread(threadId: string): Promise<MemoryOutcome<void>> {
    return this.guarded(async () => {
      await this.store.deleteThreadMessages(threadId);
    });
  }

  async health(): Promise<MemoryOutcome<void>> {
    return answer(undefined);
  }

  /** No network, no timeout. */
  setTimeoutMs(_timeoutMs: number): void {}

  /** Storage errors (disk, I/O) come back as a `storage` failure instead of a throw. */
  private async guarded<T>(fn: () => Promise<T>): Promise<MemoryOutcome<T>> {
    try {
      return answer(await fn());
    } catch (error) {
      return failure('storage', describeError(error));
    }
  }
}
