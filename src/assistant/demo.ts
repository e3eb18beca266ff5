/**
 * @module The demo assistant (`assistant.backend = "demo"`): a reply made from the user's message
 * and the memory results, streamed word by word at a steady pace with no network, so a newcomer
 * sees a streamed, resumable answer with nothing else to run (docs/decisions.md "Assistant turns,
 * first slice").
 */

/** About 20 words a second. */
export const DEMO_WORD_DELAY_MS = 50;

/** The demo's whole reply to `content`, given the contents of the memory hits. */
export function demoReply(content: string, memories: readonly string[]): string {
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

/** A source of reply chunks; resolves each chunk after its pace delay, or undefined at the end. */
export interface ReplyStream {
  next(): Promise<string | undefined>;
}

/** Streams `text` word by word, one word every `delayMs` (0: as fast as the event loop). */
export function demoStream(
  text: string,
  delayMs: number,
  sleep: (ms: number) => Promise<void>,
): ReplyStream {
  const words = wordsOf(text);
  let index = 0;
  return {
    async next() {
      if (index >= words.length) return undefined;
      if (delayMs > 0) await sleep(delayMs);
      return words[index++];
    },
  };
}
