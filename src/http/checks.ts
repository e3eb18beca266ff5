/**
 * @module The preflight "embedded assets" check (docs/design.md#preflight): the migrations, the
 * status page, the client bundle and the demo pages are compiled into the binary; a broken build
 * that lost one must fail before serving.
 */
import { describeError } from '../lib/errors.ts';
import { type Check, fail, pass } from '../preflight/check.ts';
import { embeddedMigrations } from '../storage/sqlite/migrations.ts';
import { clientAssets } from './client-assets.ts';
import { statusPageAsset } from './status-page.ts';

/** Named assets the binary must carry, each a function returning its text. */
type AssetProbes = Record<string, () => string | number>;

/** The `assets` check over the default probes plus any extra ones. */
export function assetsCheck(extra: AssetProbes = {}): Check {
  const probes: AssetProbes = {
    migrations: () => embeddedMigrations().length,
    'status page': () => statusPageAsset(),
    'client bundle': () => clientAssets().jsBytes,
    'demo page': () => clientAssets().demoBytes,
    'AI SDK demo page': () => Math.min(clientAssets().aiSdkPageBytes, clientAssets().aiSdkJsBytes),
    ...extra,
  };
  return {
    name: 'assets',
    async run() {
      const missing: string[] = [];
      for (const [name, probe] of Object.entries(probes)) {
        try {
          const value = probe();
          if (value === 0 || value === '') missing.push(`${name}: empty`);
        } catch (error) {
          missing.push(`${name}: ${describeError(error)}`);
        }
      }
      if (missing.length > 0) {
        return fail(
          `embedded assets missing: ${missing.join('; ')}`,
          'rebuild the binary with `npm run build` (the assets are compiled in)',
        );
      }
      return pass(`embedded: ${Object.keys(probes).join(', ')}`);
    },
  };
}
