/**
 * @module The demo assistant (`assistant.backend = "demo"`): a reply made from the user's message
 * and the memory results, streamed word by word at a steady pace with no network, so a newcomer
 * sees a streamed, resumable answer with nothing else to run (docs/decisions.md "Assistant turns,
 * first slice").
 */
import type { AttemptSource } from './source.ts';

/** About 20 words a second. */
const DEMO_WORD_DELAY_MS = 50;

/** The demo's whole reply to `content`, given the contents of the memory hits. */
function demoReply(content: string, memories: readonly string[]): string {
  const said = content.trim().replace(/\s+/g, ' ');
  const recall =
    memories.length === 0
      ? ''
      : ` I remember ${memories.length} related message${memories.length === 1 ? '' : 's'}, the first: “${memories[0]!.trim().replace(/\s+/g, ' ')}”.`;
  return `You said: “${said}”.${recall} This is the demo assistant; set assistant.backend = "http" to answer with your own.`;
}

/** `text` cut into words, each with the spaces after it: their concatenation is `text`. */
function wordsOf(text: string): string[] {
  return text.match(/\s*\S+\s*/gu) ?? [];
}

/** The demo assistant as an {@link AttemptSource}: the reply word by word, every `delayMs`. */
export function demoSource(delayMs: number = DEMO_WORD_DELAY_MS): AttemptSource {
  return async (_turnId, body, onText, signal) => {
    const memories = body.memory.results
      .map((hit) => hit.content)
      .filter((content): content is string => typeof content === 'string');
    for (const word of wordsOf(demoReply(body.message.content, memories))) {
      if (delayMs > 0) await pause(delayMs, signal);
      if (signal.aborted) return { kind: 'aborted' };
      await onText(word);
    }
    return { kind: 'complete' };
  };
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
