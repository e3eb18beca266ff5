/**
 * @module Boundary guards for message content (docs/design.md#guards, #content-rules): a message
 * that is empty after white space and invisible characters is `empty_message`; a lone surrogate or
 * U+0000 is `bad_request`; sizes count UTF-8 bytes. Nothing that fails here is stored or sent.
 */
import { hasLoneSurrogate, hasNul, isBlank, utf8Bytes } from '../lib/text.ts';

/** Why input was refused at the boundary. */
export type GuardCode = 'empty_message' | 'bad_request' | 'too_large';

/** A refusal with a message that is safe to show the client. */
interface GuardProblem {
  code: GuardCode;
  message: string;
}

/** The default cap on one message's content, in UTF-8 bytes (same as the WebSocket frame rule). */
export const DEFAULT_MAX_CONTENT_BYTES = 32_768;

/** Checks one message's content; returns null when it may be stored and sent. */
export function checkContent(
  content: unknown,
  maxContentBytes: number = DEFAULT_MAX_CONTENT_BYTES,
): GuardProblem | null {
  if (typeof content !== 'string') {
    return { code: 'bad_request', message: 'content must be a string' };
  }
  if (hasLoneSurrogate(content)) {
    return { code: 'bad_request', message: 'content holds a lone UTF-16 surrogate' };
  }
  if (hasNul(content)) return { code: 'bad_request', message: 'content holds U+0000' };
  if (isBlank(content)) {
    return { code: 'empty_message', message: 'content is empty or white space only' };
  }
  const bytes = utf8Bytes(content);
  if (bytes > maxContentBytes) {
    return {
      code: 'too_large',
      message: `content is ${bytes} bytes; the limit is ${maxContentBytes} UTF-8 bytes`,
    };
  }
  return null;
}

/**
 * Checks a list of messages: an empty list is `empty_message`, and so is any member that fails
 * {@link checkContent}; the message names the member's index.
 */
export function checkMessageList(
  messages: ReadonlyArray<{ content: unknown }>,
  maxContentBytes: number = DEFAULT_MAX_CONTENT_BYTES,
): GuardProblem | null {
  if (messages.length === 0) return { code: 'empty_message', message: 'the message list is empty' };
  for (const [index, message] of messages.entries()) {
    const problem = checkContent(message.content, maxContentBytes);
    if (problem !== null)
      return { code: problem.code, message: `message ${index}: ${problem.message}` };
  }
  return null;
}
