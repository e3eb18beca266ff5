import { afterEach, describe, expect, test } from 'bun:test';
import { createElement as h } from 'react';
import { renderToString } from 'react-dom/server';
import { connect, type LifelineClient } from '../../client/index.ts';
import {
  LifelineProvider,
  useConnection,
  useLifeline,
  usePreferences,
  useThread,
} from '../../client/react.ts';
import { FakeNetwork, FakeTimers, flush, messageView, rehydrate, uuid } from './fakes.ts';

let client: LifelineClient | undefined;
afterEach(() => client?.close());

async function openClient(): Promise<LifelineClient> {
  const net = new FakeNetwork();
  client = connect({
    url: 'ws://h/ws',
    token: async () => 't',
    timers: new FakeTimers(),
    socket: net.factory,
  });
  await flush();
  net.last.push(
    rehydrate({
      preferences: { theme: 'dark' },
      threads: {
        t1: { personalization: {}, messages: [messageView(uuid(1), 1, 't1', 'hi there')] },
      },
    }),
  );
  return client;
}

function View() {
  const thread = useThread('t1');
  const [preferences] = usePreferences();
  const { status, memory, pending } = useConnection();
  return h(
    'p',
    null,
    `${status.state}|${memory}|${pending}|${String(preferences.theme)}|`,
    thread?.messages.map((m) => m.content).join(','),
  );
}

function Orphan() {
  useLifeline();
  return null;
}

describe('react binding', () => {
  test('the hooks read the thread, the preferences and the connection from the provider', async () => {
    const c = await openClient();
    const html = renderToString(h(LifelineProvider, { client: c }, h(View)));
    expect(html).toContain('open|ok|0|dark|');
    expect(html).toContain('hi there');
  });

  test('useLifeline outside a provider says how to fix it', () => {
    expect(() => renderToString(h(Orphan))).toThrow(/LifelineProvider/);
  });
});
