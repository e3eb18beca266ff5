/**
 * The storage contract: one suite, run unchanged against every {@link Store} adapter (the pattern
 * of drizzle's own integration tests). `storeContract('sqlite', makeSqlite)` and
 * `storeContract('postgres', makePg)` each register the same cases; an adapter file supplies only
 * how to make a fresh store, a second "instance" on the same data, and a storage failure.
 */
import { describe, expect } from 'bun:test';
import type { Clock } from '../../../src/lib/clock.ts';
import type { NewMessage, Store, StoredMessage } from '../../../src/storage/store.ts';
import { adminContract } from './admin.ts';
import { failureContract } from './failure.ts';
import { groupCommitContract } from './group-commit.ts';
import { historyContract } from './history.ts';
import { leasesContract } from './leases.ts';
import { messagesContract } from './messages.ts';
import { outboxContract } from './outbox.ts';
import { turnsContract } from './turns.ts';

/** A fresh, migrated, empty store and what the contract needs around it. */
export interface ContractDb extends AsyncDisposable {
  readonly store: Store;
  /**
   * Another store object on the same data with its own connection(s): a second instance. The
   * caller closes it.
   */
  openSecond(): Promise<Store>;
  /** Makes the storage fail (disk full, server down) until {@link restoreStorage}. */
  breakStorage(): Promise<void>;
  restoreStorage(): Promise<void>;
  /** Size of a write that fails while the storage is broken (a tiny write may still fit). */
  readonly failingContentChars: number;
}

/** Makes a fresh {@link ContractDb}; `clock` drives stored wall times. */
export type MakeStore = (options?: { clock?: Clock }) => Promise<ContractDb>;

/** Registers the whole contract under `describe(name)`. */
export function storeContract(name: string, make: MakeStore): void {
  describe(`store contract: ${name}`, () => {
    messagesContract(make);
    historyContract(make);
    outboxContract(make);
    leasesContract(make);
    adminContract(make);
    failureContract(make);
    groupCommitContract(make);
    turnsContract(make);
  });
}

/** A message for user u1 in thread t1 unless overridden; a fresh UUID each time. */
export function msg(overrides: Partial<NewMessage> = {}): NewMessage {
  const id = overrides.id ?? crypto.randomUUID();
  return {
    userId: 'u1',
    threadId: 't1',
    id,
    role: 'user',
    content: 'hello',
    ...overrides,
  };
}

/** The outcome of appending a new message: committed as `seq`, answered with the row written. */
export function committed(seq: number, row: Partial<StoredMessage> = {}) {
  return {
    kind: 'ok' as const,
    seq,
    duplicate: false as const,
    message: expect.objectContaining({ ...row, seq }) as StoredMessage,
  };
}

/** Appends `content` to `threadId` as `userId`; returns the message id. */
export async function write(
  store: Store,
  threadId: string,
  content: string,
  userId = 'u1',
): Promise<string> {
  const id = crypto.randomUUID();
  await store.appendMessage({ userId, threadId, id, role: 'user', content });
  return id;
}

/** Awaits a promise that must reject, and returns the rejection. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}
