/**
 * The fake Zep's v3 mode judged by a client nobody here wrote: the official `@getzep/zep-cloud`
 * 3.x SDK drives it through every operation lifeline's v3 dialect uses. If the SDK cannot use
 * the fake, the fake is wrong. (404 and 400 are never retried by the SDK, so each failure shows at once.)
 */
import { afterEach, describe, expect, test } from 'bun:test';
import { Zep, ZepClient, type ZepError } from '@getzep/zep-cloud';
import { type FakeZep, startFakeZep } from '../../support/fake-zep.ts';

let zep: FakeZep | undefined;
afterEach(async () => {
  await zep?.stop();
  zep = undefined;
});

/** The SDK's calls return a lazy thenable, so catch by awaiting rather than with `.rejects`. */
async function caught(call: () => PromiseLike<unknown>): Promise<unknown> {
  try {
    await call();
  } catch (error) {
    return error;
  }
  throw new Error('the call did not fail');
}

async function sdkAgainstFake() {
  zep = await startFakeZep({ mode: 'v3', apiKey: 'z_test' });
  const client = new ZepClient({ apiKey: 'z_test', baseUrl: `${zep.url}/api/v2` });
  return { zep, client };
}

describe('the official Zep v3 SDK against the fake', () => {
  test('user, thread, messages, context, graph search and project info all parse', async () => {
    const { zep, client } = await sdkAgainstFake();
    const user = await client.user.add({ userId: 'u1', firstName: 'Ada' });
    expect(user.userId).toBe('u1');
    const thread = await client.thread.create({ threadId: 't1', userId: 'u1' });
    expect(thread).toMatchObject({ threadId: 't1', userId: 'u1' });
    const added = await client.thread.addMessages('t1', {
      messages: [
        { role: 'user', name: 'Ada', content: 'I keep bees in Lisbon' },
        { role: 'assistant', content: 'Bees like lavender' },
      ],
    });
    expect(added.messageUuids?.length).toBe(2);
    const listed = await client.thread.get('t1', { lastn: 2 });
    expect(listed.messages?.map((m) => [m.role, m.name, m.content])).toEqual([
      ['user', 'Ada', 'I keep bees in Lisbon'],
      ['assistant', undefined, 'Bees like lavender'],
    ]);
    const context = await client.thread.getUserContext('t1');
    expect(context.context).toContain('bees');
    const found = await client.graph.search({ userId: 'u1', query: 'bees', scope: 'edges' });
    expect(found.edges?.[0]?.fact).toBe('I keep bees in Lisbon');
    const info = await client.project.get();
    expect(info.project?.name).toBe('fake project');
    // Every request stayed under /api/v2 with the Api-Key scheme.
    for (const r of zep.requests()) {
      expect(r.path.startsWith('/api/v2/')).toBe(true);
      expect(r.headers.authorization).toBe('Api-Key <redacted>');
    }
  });

  test("a missing thread is the SDK's not-found error", async () => {
    const { client } = await sdkAgainstFake();
    const error = await caught(() => client.thread.get('nope', { lastn: 1 }));
    expect(error).toBeInstanceOf(Zep.NotFoundError);
    expect(error).toMatchObject({ statusCode: 404, body: { message: 'thread not found' } });
  });

  test('a duplicate user is the SDK bad-request error with "already exists"', async () => {
    const { client } = await sdkAgainstFake();
    await client.user.add({ userId: 'u1' });
    const error = await caught(() => client.user.add({ userId: 'u1' }));
    expect(error).toBeInstanceOf(Zep.BadRequestError);
    expect(String((error as ZepError).body && JSON.stringify((error as ZepError).body))).toContain(
      'already exists',
    );
  });
});
