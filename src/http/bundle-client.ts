/**
 * @module Bun macros that bundle the browser code the daemon serves, at build time: the client SDK
 * (client/index.ts → `/client.js`) and the AI SDK demo page (client/examples/ai-sdk-chat.ts →
 * `/demo/ai-sdk.js`). Imported with `with { type: 'macro' }`, they run while `bun` transpiles or
 * `bun build --compile` bundles the daemon, and their results are inlined as string literals, so
 * the binary carries them with no files beside it.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The bundled client: ES module text and its source map (JSON text). */
interface ClientBundle {
  js: string;
  map: string;
}

const ROOT = join(import.meta.dir, '..', '..');

/**
 * Runs the `bun build` CLI on `entry` into a temporary directory and reads the files back by name.
 * A macro cannot call `Bun.build` (the bundler is waiting on it), hence the CLI.
 * @throws Error with the bundler's output when the build fails (the daemon build fails with it).
 */
function bundle(entry: string, name: string, flags: string[], read: string[]): string[] {
  const outdir = mkdtempSync(join(tmpdir(), 'lifeline-client-bundle-'));
  try {
    const build = Bun.spawnSync(
      [
        process.execPath,
        'build',
        join(ROOT, entry),
        '--target=browser',
        '--format=esm',
        '--minify',
        `--entry-naming=${name}`,
        `--outdir=${outdir}`,
        ...flags,
      ],
      { cwd: ROOT, stdout: 'pipe', stderr: 'pipe', env: { ...process.env, NO_COLOR: '1' } },
    );
    if (build.exitCode !== 0) {
      throw new Error(`bundling ${entry} failed:\n${build.stderr.toString()}`);
    }
    return read.map((file) => readFileSync(join(outdir, file), 'utf8'));
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** Bundles client/index.ts for browsers (ESM, minified, linked source map named `client.js.map`). */
export function bundleClient(): ClientBundle {
  const [js = '', map = ''] = bundle(
    'client/index.ts',
    'client.js',
    ['--sourcemap=linked'],
    ['client.js', 'client.js.map'],
  );
  return { js, map };
}

/**
 * Bundles the `/demo/ai-sdk` page (React, `@ai-sdk/react`'s `useChat`, the lifeline transport)
 * with React's production build. No source map: the page is an example, and the map would add
 * megabytes to the binary (docs/decisions.md "The demo pages answer").
 */
export function bundleAiSdkDemo(): string {
  const [js = ''] = bundle(
    'client/examples/ai-sdk-chat.ts',
    'ai-sdk.js',
    ['--define', 'process.env.NODE_ENV="production"'],
    ['ai-sdk.js'],
  );
  return js;
}
