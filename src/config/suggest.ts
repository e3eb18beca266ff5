/**
 * @module "Did you mean …": the nearest valid config key, flag or command for a typo
 * (docs/design.md#cli). Edit distance decides, and a key whose last segment matches exactly wins
 * even when it sits in another section (`cooldown_s` → `breaker.cooldown_s`). It imports nothing, so
 * the CLI's command and flag suggestions cost no schema; key and env suggestions are in
 * `key-suggest.ts`.
 */
/** Levenshtein distance between two strings (insert, delete, substitute cost 1). */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
    }
    previous = current;
  }
  return previous[b.length]!;
}

function normalise(word: string): string {
  return word.trim().toLowerCase().replaceAll('-', '_');
}

function lastSegment(word: string): string {
  const parts = word.split('.');
  return parts[parts.length - 1] ?? word;
}

/**
 * The candidate nearest to `word`, or undefined when none is close enough to be a plausible
 * typo. Case, and `-` versus `_`, are ignored.
 */
export function suggest(word: string, candidates: Iterable<string>): string | undefined {
  const wanted = normalise(word);
  if (wanted === '') return undefined;
  const wantedTail = lastSegment(wanted);
  const fullLimit = Math.max(2, Math.floor(wanted.length / 4));
  const tailLimit = Math.floor(wantedTail.length / 4);
  let best: { candidate: string; score: number } | undefined;
  for (const candidate of candidates) {
    const norm = normalise(candidate);
    const full = editDistance(wanted, norm);
    const tail = editDistance(wantedTail, lastSegment(norm));
    // A matching last segment in another section is a strong hint: a key put under the wrong table.
    const tailScore = tail > tailLimit ? Infinity : wanted.includes('.') ? tail + 1 : tail + 0.5;
    const score = Math.min(full <= fullLimit ? full : Infinity, tailScore);
    // On a tie the shorter key wins: `cooldown_s` means breaker.cooldown_s, not its
    // assistant.breaker override.
    const better =
      best === undefined ||
      score < best.score ||
      (score === best.score && candidate.length < best.candidate.length);
    if (score !== Infinity && better) best = { candidate, score };
  }
  return best?.candidate;
}
