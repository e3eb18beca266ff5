/**
 * The local backend: the contract suite over a fresh SQLite store, plus the MemoryService path
 * (submit → FTS5 search, outbox marked delivered without a network).
 */
import { describe, expect, test } from 'bun:test';
import { LocalBackend } from '../../src/memory/local.ts';
import { MemoryService } from '../../src/memory/service.ts';
import type { MessageRole } from '../../src/storage/store.ts';
import { FakeClock } from '../support/clock.ts';
import { freshStore } from '../support/db.ts';
import { backendContract } from './backend.contract.ts';
import { DEFAULT_BREAKER, DEFAULT_OUTBOX, newMessage } from './harness.ts';

backendContract('local', async () => {
  const db = freshStore();
  return {
    backend: new LocalBackend(db.store),
    async seed(threadId, userId, messages) {
      for (const m of messages) {
        await db.store.appendMessage({
          userId,
          threadId,
          id: m.uuid,
          role: m.role as MessageRole,
          content: m.content,
        });
      }
    },
    [Symbol.asyncDispose]: () => db[Symbol.asyncDispose](),
  };
});

describe('MemoryService on the local backend', () => {
  test('search finds what was submitted, and the outbox drains with no network', async () => {
    await using db = freshStore();
    const service = await MemoryService.create({
      store: db.store,
      backend: new LocalBackend(db.store),
      breaker: DEFAULT_BREAKER,
      outbox: DEFAULT_OUTBOX,
      clock: new FakeClock(),
    });
    await service.submit(newMessage('t1', 'remember the blue umbrella'));
    await service.submit(newMessage('t1', 'and the red kite'));
    expect(await service.search('u1', 't1', 'umbrella', 5)).toMatchObject({
      degraded: false,
      results: [{ kind: 'message', content: 'remember the blue umbrella', role: 'user' }],
    });
    await service.flusher.flushOnce();
    expect(await db.store.outboxStats()).toEqual({ pending: 0, dead: 0, delivered: 2 });
    expect(service.status()).toBe('ok');
    await service.stop();
  });
});
