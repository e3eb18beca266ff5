import { describe, expect, test } from 'bun:test';
import { SharedConnections, type SqliteHandle } from '../../../src/storage/sqlite/open.ts';
import { tempDir } from '../../support/temp.ts';

/** `cache_size` is set per connection: a handle that sees the mark shares the marked connection. */
const MARK = -4321;

function markConnection(handle: SqliteHandle): void {
  handle.sqlite.run(`PRAGMA cache_size = ${MARK}`);
}

function seesMarker(handle: SqliteHandle): boolean {
  return (
    (handle.sqlite.query('PRAGMA cache_size').get() as { cache_size: number }).cache_size === MARK
  );
}

describe('SharedConnections (one connection per file for a start)', () => {
  test('every borrow of a file is the same connection, and closing a borrowed handle keeps it open', () => {
    using dir = tempDir('share');
    const share = new SharedConnections();
    const first = share.borrow(dir.join('a.db'));
    markConnection(first);
    first.close();
    const second = share.borrow(dir.join('a.db'));
    expect(seesMarker(second)).toBe(true);
    expect(seesMarker(share.borrow(dir.join('b.db')))).toBe(false);
    share.close();
  });

  test('adopt hands the shared connection over; close() closes only what was not adopted', () => {
    using dir = tempDir('share');
    const share = new SharedConnections();
    markConnection(share.borrow(dir.join('a.db')));
    const other = share.borrow(dir.join('b.db'));
    const owned = share.adopt(dir.join('a.db'));
    expect(seesMarker(owned)).toBe(true);
    share.close();
    expect(seesMarker(owned)).toBe(true);
    expect(() => other.sqlite.query('SELECT 1').get()).toThrow();
    owned.close();
  });

  test('adopting a file nobody borrowed opens it, and a failed open is not kept', () => {
    using dir = tempDir('share');
    const share = new SharedConnections();
    const owned = share.adopt(dir.join('a.db'));
    expect(owned.sqlite.query('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' });
    owned.close();
    expect(() => share.borrow('/proc/lifeline-no-such-dir/a.db')).toThrow(
      /cannot open the database/,
    );
    expect(() => share.borrow('/proc/lifeline-no-such-dir/a.db')).toThrow(
      /cannot open the database/,
    );
    share.close();
  });
});
