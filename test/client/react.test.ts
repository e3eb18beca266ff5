import { afterEach, describe, expect, test } from 'bun:test';
import { createElement as h } from 'react';
import { renderToString } from 'react-dom/server';
import { connect, type LifelineClient } from '../../client/index.ts';
import {
  LifelineProvider,
  useAssistant,
  useConnection,
  useLifeline,
  usePreferences,
  useReply,
  useThread,
} from '../../client/react.ts';
import { FakeNetwork, FakeTimers, flush, messageView, rehydrate, uuid } from './fakes.ts';

let client: LifelineClient | undefined;
afterEach(() => client?.close());

async function openClient(replies: unknown[] = []): Promise<LifelineClient> {
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
        t1: {
          personalization: {},
          messages: [messageView(uuid(1), 1, 't1', 'hi there')],
          replies,
        },
      },
      assistant: { status: 'unavailable' },
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

function Streaming() {
  const reply = useReply(uuid(9));
  const assistant = useAssistant();
  const replies = useThread('t1')?.replies ?? [];
  return h('p', null, `${assistant}|${replies.length}|${reply?.status}:${reply?.text}`);
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

  test('the thread hook and useReply expose the replies in progress; useAssistant the status', async () => {
    const reply = {
      turn_id: uuid(9),
      reply_id: uuid(10),
      status: 'streaming',
      text: 'so far',
      offset: 6,
    };
    const c = await openClient([reply]);
    const html = renderToString(h(LifelineProvider, { client: c }, h(Streaming)));
    expect(html).toContain('unavailable|1|streaming:so far');
  });

  test('useLifeline outside a provider says how to fix it', () => {
    expect(() => renderToString(h(Orphan))).toThrow(/LifelineProvider/);
  });
});
