/**
 * The `/demo/ai-sdk` page: the demo chat written with the AI SDK's `useChat` (`@ai-sdk/react`) and
 * `transport: lifelineTransport(client)`. The daemon serves it bundled at build time (dev mode signs
 * in through `/demo/token`). What it shows beyond a plain `useChat` page:
 *
 * - the chat starts from the thread lifeline holds (after the first snapshot), and `resume: true`
 *   continues a reply in progress after a reload;
 * - a reply started in another tab is followed with `resumeStream()`, and while the chat is idle its
 *   messages follow the thread (what other tabs sent), so every tab shows the same conversation;
 * - the Stop button is `useChat`'s `stop()`, which the transport turns into `reply.cancel`.
 *
 * Wrapped in `StrictMode`: with React's development build it mounts effects twice, which the
 * transport tells apart from a stop. (createElement rather than JSX: the repository's tsconfig has
 * no JSX setting.)
 */
import { useChat } from '@ai-sdk/react';
import type { ChatTransport, UIMessage } from 'ai';
import {
  createElement as h,
  type ReactNode,
  StrictMode,
  useEffect,
  useMemo,
  useRef,
  useState,
  useSyncExternalStore,
} from 'react';
import { createRoot } from 'react-dom/client';
import { lifelineTransport } from '../ai-sdk.ts';
import { connect, type LifelineClient, type MessageView, type ThreadState } from '../index.ts';
import { LifelineProvider, useAssistant, useConnection, useLifeline, useThread } from '../react.ts';

const THREAD = new URLSearchParams(location.search).get('thread') || 'demo';

/** The dev-mode token, else one the user pastes (`lifeline token --user ID`). */
async function demoToken(): Promise<string> {
  const answer = await fetch('/demo/token', { cache: 'no-store' });
  if (answer.ok) return ((await answer.json()) as { token: string }).token;
  const saved = sessionStorage.getItem('lifeline-demo-token');
  if (saved) return saved;
  const token = (prompt('A token for lifeline (lifeline token --user ID):') ?? '').trim();
  sessionStorage.setItem('lifeline-demo-token', token);
  return token;
}

const toUIMessage = (message: MessageView): UIMessage => ({
  id: message.id,
  role: message.role === 'assistant' ? 'assistant' : message.role === 'system' ? 'system' : 'user',
  parts: [{ type: 'text', text: message.content }],
});

const textOf = (message: UIMessage) =>
  message.parts.map((part) => (part.type === 'text' ? part.text : '')).join('');

/** The transport, counting resumes on the page (StrictMode asks twice; the text shows once). */
function countingTransport(client: LifelineClient): ChatTransport<UIMessage> {
  const transport = lifelineTransport(client);
  let resumes = 0;
  return {
    resumeStreamIsReplay: transport.resumeStreamIsReplay,
    sendMessages: (options) => transport.sendMessages(options),
    reconnectToStream: (options) => {
      resumes += 1;
      document.body.dataset.resumes = String(resumes);
      return transport.reconnectToStream(options);
    },
  };
}

type ChatHelpers = ReturnType<typeof useChat<UIMessage>>;

/**
 * Keeps an idle chat in step with the thread: a reply that starts elsewhere (another tab) is
 * resumed, and messages committed elsewhere replace the chat's. Replies present at mount are left
 * to `resume: true`.
 */
function useFollowThread(chat: ChatHelpers, thread: ThreadState | undefined): void {
  const known = useRef<Set<string> | null>(null);
  known.current ??= new Set((thread?.replies ?? []).map((reply) => reply.turnId));
  const { status, messages, setMessages, resumeStream } = chat;
  useEffect(() => {
    const seen = known.current ?? new Set<string>();
    const idle = status === 'ready' || status === 'error';
    for (const reply of thread?.replies ?? []) {
      if (seen.has(reply.turnId)) continue;
      seen.add(reply.turnId);
      if (idle) {
        void resumeStream();
        return;
      }
    }
    const held = thread?.messages ?? [];
    const same = held.length === messages.length && held.every((m, i) => m.id === messages[i]?.id);
    if (idle && !same) setMessages(held.map(toUIMessage));
  }, [thread, status, messages, setMessages, resumeStream]);
}

function Chat(props: { initial: UIMessage[] }) {
  const client = useLifeline();
  const transport = useMemo(() => countingTransport(client), [client]);
  const chat = useChat({
    id: THREAD,
    transport,
    messages: props.initial,
    resume: true,
    generateId: () => crypto.randomUUID(),
  });
  const thread = useThread(THREAD);
  useFollowThread(chat, thread);
  const [input, setInput] = useState('');
  const busy = chat.status === 'submitted' || chat.status === 'streaming';
  const queued = thread?.replies?.some((reply) => reply.status === 'queued') ?? false;
  const last = chat.messages.at(-1);
  const items: ReactNode[] = chat.messages.map((message) =>
    h(
      'li',
      {
        key: message.id,
        'data-id': message.id,
        'data-role': message.role,
        className: busy && message === last && message.role === 'assistant' ? 'streaming' : '',
      },
      h('span', { className: 'role' }, message.role),
      textOf(message),
    ),
  );
  if (queued || (chat.status === 'submitted' && last?.role === 'user')) {
    items.push(
      h('li', { key: 'queued', className: 'queued' }, 'queued — waiting for the assistant…'),
    );
  }
  const submit = (event: { preventDefault(): void }) => {
    event.preventDefault();
    if (!input.trim()) return;
    void chat.sendMessage({ text: input });
    setInput('');
  };
  return h(
    'section',
    null,
    h('ul', { id: 'messages' }, ...items),
    chat.error ? h('div', { className: 'banner', id: 'chat-error' }, chat.error.message) : null,
    h(
      'form',
      { id: 'composer', onSubmit: submit },
      h('input', {
        id: 'content',
        value: input,
        placeholder: 'Type a message',
        autoComplete: 'off',
        onChange: (event: { target: { value: string } }) => setInput(event.target.value),
      }),
      h('button', { id: 'send', type: 'submit' }, 'Send'),
      busy ? h('button', { id: 'stop', type: 'button', onClick: () => chat.stop() }, 'Stop') : null,
    ),
    h('footer', null, 'useChat status ', h('span', { id: 'chat-status' }, chat.status)),
  );
}

function Page() {
  const client = useLifeline();
  const ready = useSyncExternalStore(client.subscribe, () => client.getState().ready);
  const { status } = useConnection();
  const assistant = useAssistant();
  // The chat starts from the thread as the first snapshot has it (a reload shows it at once).
  const [initial, setInitial] = useState<UIMessage[] | undefined>(undefined);
  if (ready && initial === undefined) {
    setInitial((client.getState().threads[THREAD]?.messages ?? []).map(toUIMessage));
  }
  return h(
    'main',
    null,
    h(
      'header',
      null,
      h('h1', null, 'lifeline + AI SDK useChat — thread ', h('code', null, THREAD)),
      h('span', { id: 'status', className: 'pill', 'data-state': status.state }, status.state),
    ),
    assistant === 'unavailable'
      ? h(
          'div',
          { id: 'assistant-banner', className: 'banner' },
          'the assistant is unavailable — your message is saved and will be answered',
        )
      : null,
    initial ? h(Chat, { initial }) : h('p', null, 'loading the thread…'),
  );
}

const client = connect({ url: '/ws', token: demoToken, thread: THREAD });
const root = document.getElementById('root');
if (root) {
  createRoot(root).render(h(StrictMode, null, h(LifelineProvider, { client }, h(Page))));
}
