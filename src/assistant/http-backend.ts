/**
 * @module The HTTP assistant backend (`assistant.backend = "http"`; docs/protocol.md "Assistant
 * replies", docs/decisions.md "The HTTP assistant backend"): one signed POST per attempt at a
 * turn, signed with the Standard Webhooks scheme by the `standardwebhooks` package, and the answer
 * read as it streams (answer-stream.ts). The status decides the outcome: 200 is read by content
 * type, 202 deferred, 204 empty, 408/425/429/5xx and network failures mean the assistant service
 * is unavailable (its breaker counts them, the caller retries, `Retry-After` honoured,
 * docs/design.md#retry-after), any other 4xx rejects the turn, 1xx/3xx are bad answers.
 *
 * The secret only ever feeds the signer: it is never put in a message, a log line or an error.
 */
import { Webhook } from 'standardwebhooks';
import { buildInfo } from '../lib/build-info.ts';
import { parseRetryAfterMs, reasonOf } from '../memory/zep/classify.ts';
import { readAnswer } from './answer-stream.ts';
import { type AttemptEnd, errorText, failed, type OnText } from './answer-types.ts';

export { type AttemptEnd, type OnText, readAnswer } from './answer-stream.ts';

/** Where the assistant is and how long to wait for it. */
export interface AssistantHttpOptions {
  url: string;
  /** The Standard Webhooks secret, `whsec_` + base64. */
  secret: string;
  /** Longest wait for the response headers. */
  firstByteTimeoutMs: number;
  /** Longest wait between two chunks of the answer body. */
  idleTimeoutMs: number;
  /** Longest reply text, in UTF-8 bytes. */
  maxReplyBytes: number;
  fetch?: typeof fetch;
  /** Wall clock for `webhook-timestamp` and Retry-After dates (default Date.now). */
  nowMs?: () => number;
}

/** Most of an error body kept for the message of a rejected turn or a failed ping. */
const MAX_ERROR_BODY_BYTES = 4096;

let userAgent: string | undefined;

function userAgentHeader(): string {
  userAgent ??= `lifeline/${buildInfo().version}`;
  return userAgent;
}

/** A response whose headers arrived, or the end of the attempt when none did. */
type Sent =
  | { kind: 'response'; response: Response }
  | Extract<AttemptEnd, { kind: 'aborted' | 'failed' | 'unavailable' }>;

/** The three Standard Webhooks headers for `payload`, or a failure naming the bad secret. */
function signatureHeaders(
  options: AssistantHttpOptions,
  webhookId: string,
  payload: string,
): { headers: Record<string, string> } | Extract<AttemptEnd, { kind: 'failed' }> {
  const at = new Date((options.nowMs ?? Date.now)());
  let signature: string;
  try {
    signature = new Webhook(options.secret).sign(webhookId, at, payload);
  } catch {
    return failed(
      'rejected',
      'assistant.secret is not a usable Standard Webhooks secret (whsec_ followed by base64 of the key)',
    );
  }
  return {
    headers: {
      'webhook-id': webhookId,
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': signature,
    },
  };
}

/**
 * POSTs `payload` signed as `webhookId`, waiting at most `firstByteTimeoutMs` for the headers.
 * `signal` keeps governing the body after that, so aborting it closes the connection.
 */
async function sendSigned(
  options: AssistantHttpOptions,
  webhookId: string,
  payload: string,
  signal: AbortSignal,
): Promise<Sent> {
  if (signal.aborted) return { kind: 'aborted' };
  const signed = signatureHeaders(options, webhookId, payload);
  if ('kind' in signed) return signed;
  const firstByte = new AbortController();
  const timer = setTimeout(() => firstByte.abort(), options.firstByteTimeoutMs);
  try {
    const response = await (options.fetch ?? fetch)(options.url, {
      method: 'POST',
      redirect: 'manual',
      signal: AbortSignal.any([signal, firstByte.signal]),
      headers: {
        ...signed.headers,
        'content-type': 'application/json',
        accept: 'text/event-stream, text/plain, application/json',
        'user-agent': userAgentHeader(),
      },
      body: payload,
    });
    return { kind: 'response', response };
  } catch (error) {
    if (signal.aborted) return { kind: 'aborted' };
    if (firstByte.signal.aborted) {
      return {
        kind: 'unavailable',
        message: `the assistant sent no response headers within ${options.firstByteTimeoutMs} ms`,
      };
    }
    return {
      kind: 'unavailable',
      message: `the assistant could not be reached: ${errorText(error)}`,
    };
  } finally {
    clearTimeout(timer);
  }
}

/** The first bytes of an error body as a one-line reason; releases the body either way. */
async function reasonFrom(
  response: Response,
  signal: AbortSignal,
  idleMs: number,
): Promise<string> {
  const fallback = `HTTP ${response.status}`;
  if (response.body === null) return fallback;
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body.getReader();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  const stop = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), idleMs);
    onAbort = () => resolve(undefined);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    while (size < MAX_ERROR_BODY_BYTES) {
      const read = await Promise.race([reader.read(), stop]);
      if (read === undefined || read.done) break;
      chunks.push(read.value);
      size += read.value.byteLength;
    }
  } catch {
    // The reason is a courtesy: a body cut short still leaves the status.
  } finally {
    clearTimeout(timer);
    if (onAbort !== undefined) signal.removeEventListener('abort', onAbort);
    reader.cancel().catch(() => {});
  }
  const text = new TextDecoder().decode(Buffer.concat(chunks).subarray(0, MAX_ERROR_BODY_BYTES));
  return `${fallback} ${reasonOf(text, '')}`.trim();
}

/** True for the statuses that mean the assistant service is unavailable for now. */
function isUnavailableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

/** The end of an attempt whose response is not a 2xx. */
async function endOfStatus(
  options: AssistantHttpOptions,
  response: Response,
  signal: AbortSignal,
): Promise<AttemptEnd> {
  const { status } = response;
  const reason = await reasonFrom(response, signal, options.idleTimeoutMs);
  if (signal.aborted) return { kind: 'aborted' };
  if (isUnavailableStatus(status)) {
    const retryAfterMs = parseRetryAfterMs(
      response.headers.get('retry-after'),
      (options.nowMs ?? Date.now)(),
    );
    const message = `the assistant is unavailable: ${reason}`;
    return retryAfterMs === undefined
      ? { kind: 'unavailable', message, status }
      : { kind: 'unavailable', message, status, retryAfterMs };
  }
  if (status >= 400)
    return failed('rejected', `the assistant rejected the turn: ${reason}`, status);
  return failed(
    'bad_answer',
    `the assistant answered HTTP ${status}; send 200, 202 or 204`,
    status,
  );
}

/**
 * POSTs one signed turn (`webhook-id` = `turnId` on every attempt, the backend's idempotency key)
 * and reads the answer, calling `onText` for each piece of reply text as it arrives (awaited:
 * backpressure). Never throws for anything the network or the assistant does.
 */
export async function deliverTurn(
  options: AssistantHttpOptions,
  turnId: string,
  body: unknown,
  onText: OnText,
  signal: AbortSignal,
): Promise<AttemptEnd> {
  const sent = await sendSigned(options, turnId, JSON.stringify(body), signal);
  if (sent.kind !== 'response') return sent;
  const { response } = sent;
  const { status } = response;
  if (status === 202 || status === 204) {
    response.body?.cancel().catch(() => {});
    return status === 202 ? { kind: 'deferred' } : { kind: 'empty' };
  }
  if (status !== 200 && status !== 201) return endOfStatus(options, response, signal);
  if (response.body === null) return { kind: 'empty' };
  const limits = { maxReplyBytes: options.maxReplyBytes, idleTimeoutMs: options.idleTimeoutMs };
  const end = await readAnswer(
    response.headers.get('content-type'),
    response.body,
    limits,
    onText,
    signal,
  );
  return signal.aborted ? { kind: 'aborted' } : end;
}

/** What a signed notice (ping, cancellation) got back: ok on a 2xx, else why not. */
type NoticeAnswer = { ok: true } | { ok: false; message: string; status?: number };

/** POSTs a signed notice whose answer body does not matter; `what` names it in messages. */
async function sendNotice(
  options: AssistantHttpOptions,
  id: string,
  payload: unknown,
  what: string,
  signal: AbortSignal,
): Promise<NoticeAnswer> {
  const sent = await sendSigned(options, id, JSON.stringify(payload), signal);
  if (sent.kind === 'aborted') return { ok: false, message: `the ${what} was cancelled` };
  if (sent.kind !== 'response') return { ok: false, message: sent.message };
  const { response } = sent;
  if (response.status >= 200 && response.status < 300) {
    response.body?.cancel().catch(() => {});
    return { ok: true };
  }
  const reason = await reasonFrom(response, signal, options.idleTimeoutMs);
  const message = `the assistant answered the ${what} with ${reason}`;
  return { ok: false, message, status: response.status };
}

/** A signed `{type: "ping"}`; ok when the assistant answers 2xx (preflight). */
export function pingAssistant(
  options: AssistantHttpOptions,
  signal: AbortSignal,
): Promise<NoticeAnswer> {
  return sendNotice(options, `ping_${crypto.randomUUID()}`, { type: 'ping' }, 'ping', signal);
}

/** A signed `{type: "turn.cancelled", turn_id}` (`webhook-id` = `<turnId>.cancelled`) for a deferred turn. */
export function announceCancel(
  options: AssistantHttpOptions,
  turnId: string,
  signal: AbortSignal,
): Promise<NoticeAnswer> {
  const payload = { type: 'turn.cancelled', turn_id: turnId };
  return sendNotice(options, `${turnId}.cancelled`, payload, 'cancellation', signal);
}
