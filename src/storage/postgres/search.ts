/**
 * @module PostgreSQL: the local memory backend's full-text search (tsvector/tsquery, `simple`
 * configuration, GIN index). Both sides are folded the same way in JS first: NFKD, marks dropped,
 * lower case, split into words of letters and digits. So accents and case never matter, no
 * extension (unaccent) is needed, and a query is built only from such words, quoted and OR-ed:
 * no user character ever reaches tsquery syntax, so user text cannot cause a syntax error.
 */
import type { SQL } from 'bun';
import { type MessageRow, toStoredMessage } from '../rows.ts';
import type { SearchHit } from '../store.ts';
import { MESSAGE_COLUMNS } from './columns.ts';

/** Most words of a search query (as the SQLite adapter). */
const MAX_QUERY_TERMS = 32;
/** Longer words are not indexed (PostgreSQL drops lexemes over 2,047 bytes anyway). */
const MAX_WORD_CHARS = 200;
/** Most characters of folded text indexed per message; keeps far below tsvector's 1 MB. */
const MAX_DOCUMENT_CHARS = 200_000;

/** The folded words of `text`: accents and case removed, only letters, digits, private use. */
function foldWords(text: string): string[] {
  const folded = text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase();
  const words = folded.match(/[\p{L}\p{N}\p{Co}]+/gu) ?? [];
  return words.filter((w) => w.length <= MAX_WORD_CHARS);
}

/** The text indexed for a message: its folded words separated by spaces. */
export function searchDocument(content: string): string {
  return foldWords(content).join(' ').slice(0, MAX_DOCUMENT_CHARS);
}

/**
 * Turns user text into a safe tsquery text: each distinct folded word in single quotes, OR-ed.
 * Words hold only letters and digits, so nothing in them is tsquery syntax. Null without words.
 */
function toTsQuery(text: string): string | null {
  const unique = [...new Set(foldWords(text))].slice(0, MAX_QUERY_TERMS);
  if (unique.length === 0) return null;
  return unique.map((w) => `'${w}'`).join(' | ');
}

/** Messages of a thread matching `query`, best first (ts_rank, higher is better). */
export async function searchThread(
  q: SQL,
  threadId: string,
  query: string,
  limit: number,
): Promise<SearchHit[]> {
  const tsquery = toTsQuery(query);
  if (tsquery === null || limit <= 0) return [];
  const rows = (await q.unsafe(
    `SELECT ${MESSAGE_COLUMNS}, ts_rank(m.search, query)::float8 AS "rank"
     FROM messages m, to_tsquery('simple', $1) AS query
     WHERE m.thread_id = $2 AND m.search @@ query
     ORDER BY "rank" DESC, m.n DESC LIMIT $3`,
    [tsquery, threadId, limit],
  )) as Array<MessageRow & { rank: number }>;
  return rows.map((row) => ({ message: toStoredMessage(row), score: row.rank }));
}
