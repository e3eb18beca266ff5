/**
 * The ~1 KB JSON the baseline servers send when a socket opens, standing in for lifeline's
 * `rehydrate` frame (same order of size as a fresh user's snapshot with a short thread).
 */

/** Builds the payload once; the servers send the same string to every socket. */
export function openPayload(): string {
  const messages = Array.from({ length: 6 }, (_, i) => ({
    id: `00000000-0000-4000-8000-00000000000${i}`,
    thread_id: 't1',
    role: i % 2 === 0 ? 'user' : 'assistant',
    content: 'x'.repeat(60),
    created_at: '2026-11-24T12:00:00.000Z',
    seq: i + 1,
  }));
  return JSON.stringify({
    type: 'rehydrate',
    epoch: 'k3f9c2d1',
    seq: 6,
    recovered: false,
    session: { user_id: 'u1', connection_id: 'c-1', token_expires_at: '2026-11-24T13:00:00.000Z' },
    preferences: { theme: 'dark' },
    threads: { t1: { personalization: {}, messages } },
    memory: { status: 'ok' },
  });
}
