/**
 * Disposable temporary directories (Bun harness pattern): `using dir = tempDir('name')`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A temporary directory removed when disposed. */
export interface TempDir extends Disposable {
  readonly path: string;
  join(...parts: string[]): string;
}

/** Creates a fresh empty directory under the OS temp dir. */
export function tempDir(prefix = 'lifeline'): TempDir {
  const path = mkdtempSync(join(tmpdir(), `${prefix}-`));
  return {
    path,
    join: (...parts) => join(path, ...parts),
    [Symbol.dispose]: () => rmSync(path, { recursive: true, force: true }),
  };
}
