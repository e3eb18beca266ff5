/**
 * @module Metadata that travels with a loaded config: which source set each key, and where.
 */
import type { ConfigSource } from './issue.ts';

/**
 * Where each effective value came from (docs/design.md#config-with-sources: config plus metadata).
 */
export interface ConfigMeta {
  /** Source of each dotted key's effective value. */
  sources: Record<string, ConfigSource>;
  /** Human-readable origin of each value: `default`, `/etc/lifeline.toml:12`, `env LIFELINE_X`, `flag --port`. */
  locations: Record<string, string>;
  /** Absolute path of the config file read, if any. */
  file?: string;
}
