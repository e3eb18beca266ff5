/**
 * @module The preflight check of an HTTP assistant (docs/assistant.md "Checks"): a signed
 * `{type: "ping"}` to `assistant.url` must be answered 2xx. A warning by default — messages are
 * still accepted and their turns wait for the assistant — and a failure under `--strict`.
 */
import { type Check, pass, warn } from '../preflight/check.ts';
import type { AssistantHttpOptions } from './http-backend.ts';

/** The `assistant` check against `options.url`. */
export function assistantCheck(options: AssistantHttpOptions): Check {
  return {
    name: 'assistant',
    warnUnlessStrict: true,
    run: async ({ signal }) => {
      const target = safeUrl(options.url);
      // Loaded here, not at start: the signing library is only needed when this check runs.
      const { pingAssistant } = await import('./http-backend.ts');
      const answer = await pingAssistant(options, signal);
      if (answer.ok) return pass(`${target} answered a signed ping`);
      const status = answer.status === undefined ? '' : ` (HTTP ${answer.status})`;
      const fix =
        answer.status === 401 || answer.status === 403
          ? 'the assistant refused the signature: give it the same assistant.secret (whsec_…) lifeline signs with'
          : 'start the assistant, or fix assistant.url; until it answers, turns wait and are retried';
      return warn(`${target} did not answer the ping: ${answer.message}${status}`, fix);
    },
  };
}

/** The URL without credentials or query (it may carry a token). */
function safeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return 'assistant.url';
  }
}
