/**
 * @module What the client does after the server closes its socket: one rule per close-code range
 * (docs/protocol.md §7), so a code the client has never seen still has a defined answer.
 *
 * | code              | action                                                        |
 * | ----------------- | ------------------------------------------------------------- |
 * | 4001              | ask `token()` for a fresh token once, then reconnect           |
 * | 4003              | stop for good (`forbidden`)                                    |
 * | 4008              | back off at least `slowDownMs` (default 5 s), then reconnect   |
 * | any other 4000–4999 | stop (an application refusal this client does not know)     |
 * | 1001, 1012        | reconnect after the server's `reconnect.after_ms` hint         |
 * | anything else     | back off with full jitter and retry (1000, 1006, 1011, 3xxx …) |
 */

/** Close codes with a rule of their own (the server's meanings are in docs/design.md#websocket). */
export const CLOSE_CODE = Object.freeze({
  goingAway: 1001,
  restart: 1012,
  refreshToken: 4001,
  forbidden: 4003,
  slowDown: 4008,
});

/** The client's answer to a close. */
export type CloseAction =
  | { kind: 'refresh_token' }
  | { kind: 'stop'; reason: string }
  | { kind: 'slow_down' }
  | { kind: 'after_hint' }
  | { kind: 'backoff' };

/**
 * The rule for close `code` (with the server's `reason` text, used only to explain a stop).
 * Total: every integer maps to exactly one action.
 */
export function closeAction(code: number, reason = ''): CloseAction {
  if (code === CLOSE_CODE.refreshToken) return { kind: 'refresh_token' };
  if (code === CLOSE_CODE.forbidden) return { kind: 'stop', reason: reason || 'forbidden' };
  if (code === CLOSE_CODE.slowDown) return { kind: 'slow_down' };
  if (code >= 4000 && code <= 4999) {
    return { kind: 'stop', reason: reason || `refused by the server (close ${code})` };
  }
  if (code === CLOSE_CODE.goingAway || code === CLOSE_CODE.restart) return { kind: 'after_hint' };
  return { kind: 'backoff' };
}
