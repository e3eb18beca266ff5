/**
 * @module "Did you mean …" for config keys and LIFELINE_* variables: {@link suggest} over the
 * schema's keys (docs/design.md#configuration). Apart from `suggest.ts` so that suggesting a
 * command or flag name does not load the schema.
 */
import { configKeys } from './keys.ts';
import { suggest } from './suggest.ts';

/** The nearest valid dotted config key to `word`, if any is close. */
export function suggestKey(word: string): string | undefined {
  return suggest(
    word,
    configKeys().map((spec) => spec.key),
  );
}

/** The nearest LIFELINE_* variable to `name`, if any is close. */
export function suggestEnv(name: string): string | undefined {
  return suggest(
    name,
    configKeys().map((spec) => spec.env),
  );
}

/** `did you mean X?` for a key typo, or undefined when nothing is close. */
export function didYouMean(word: string): string | undefined {
  const near = suggestKey(word);
  return near === undefined ? undefined : `did you mean ${near}?`;
}
