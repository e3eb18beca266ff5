/**
 * @module A Bun macro that bundles the client SDK (client/index.ts) at build time. Imported with
 * `with { type: 'macro' }`, it runs while `bun` transpiles or `bun build --compile` bundles the
 * daemon, and its result — the minified ES module and its source map — is inlined as string
 * literals, so the binary carries the client with no files beside it.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The bundled client: ES module text and its source map (JSON text). */
interface ClientBundle {
  js: string;
  map: string;
}

/**
 * Bundles client/index.ts for browsers (ESM, minified, linked source map named `client.js.map`).
 * A macro cannot call `Bun.build` (the bundler is waiting on it), so this runs the `bun build`
 * CLI into a temporary directory and reads the two files back.
 * @throws Error with the bundler's output when the build fails (the daemon build fails with it).
 */
export function bundleClient(): ClientBundle {
  const root = join(import.meta.dir, '..', '..');
  const outdir = mkdtempSync(join(tmpdir(), 'lifeline-client-bundle-'));
  try {
    const build = Bun.spawnSync(
      [
        process.execPath,
        'build',
        join(root, 'client', 'index.ts'),
        '--target=browser',
        '--format=esm',
        '--minify',
        '--sourcemap=linked',
        '--entry-naming=client.js',
        `--outdir=${outdir}`,
      ],
      { cwd: root, stdout: 'pipe', stderr: 'pipe', env: { ...process.env, NO_COLOR: '1' } },
    );
    if (build.exitCode !== 0) {
      throw new Error(`bundling the client failed:\n${build.stderr.toString()}`);
    }
    return {
      js: readFileSync(join(outdir, 'client.js'), 'utf8'),
      map: readFileSync(join(outdir, 'client.js.map'), 'utf8'),
    };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
