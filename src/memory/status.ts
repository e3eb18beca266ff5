/**
 * @module What the memory layer tells clients about itself: `ok`, `write_only` (the circuit is
 * open, writes are kept for later) or `misconfigured` (docs/design.md#memory). The values are
 * carried by the `rehydrate` and `memory` frames (docs/protocol.md).
 */

/** Every memory status. */
export const MEMORY_STATUSES = ['ok', 'write_only', 'misconfigured'] as const;
/** One of {@link MEMORY_STATUSES}. */
export type MemoryStatus = (typeof MEMORY_STATUSES)[number];
