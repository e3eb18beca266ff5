/** The backend contract suite against the fake Zep, once per pinned version. */
import { createZepBackend } from '../../../src/memory/zep/backend.ts';
import { startFakeZep, type ZepMode } from '../../support/fake-zep.ts';
import { backendContract } from '../backend.contract.ts';

for (const [mode, apiVersion] of [
  ['v1', 'v1'],
  ['v1-legacy-404', 'v1'],
  ['v2-ce', 'v2'],
  ['v2-cloud', 'v2'],
  ['v3', 'v3'],
] as const satisfies ReadonlyArray<readonly [ZepMode, 'v1' | 'v2' | 'v3']>) {
  backendContract(
    `zep ${apiVersion} (${mode})`,
    async () => {
      const zep = await startFakeZep({ mode, apiKey: 'k' });
      const backend = createZepBackend({
        baseUrl: zep.url,
        apiVersion,
        apiKey: 'k',
        timeoutMs: 2000,
      });
      return {
        backend,
        async seed(threadId, userId, messages) {
          const outcome = await backend.addMessages(threadId, userId, messages);
          if (outcome.kind !== 'answer') throw new Error(`seed failed: ${JSON.stringify(outcome)}`);
        },
        [Symbol.asyncDispose]: () => zep.stop(),
      };
    },
    { searchScope: apiVersion === 'v3' ? 'user' : 'thread' },
  );
}
