/**
 * @module React binding: a `LifelineProvider` holding one client, and hooks that read its state
 * through `useSyncExternalStore`, so a component re-renders only when the part it reads changes
 * (the state is immutable and shared structurally). React is a peer dependency; nothing here runs
 * unless you import it.
 *
 * @example
 * const client = connect({ url: '/ws', token: fetchToken, thread: 't1' });
 * root.render(<LifelineProvider client={client}><Chat /></LifelineProvider>);
 * function Chat() {
 *   const thread = useThread('t1');
 *   const { status } = useConnection();
 *   …
 * }
 */
import {
  createContext,
  createElement,
  type ReactNode,
  useCallback,
  useContext,
  useSyncExternalStore,
} from 'react';
import type {
  ConnectionStatus,
  JsonObject,
  LifelineClient,
  LifelineState,
  ReplyInProgress,
  ThreadState,
} from './index.ts';

const ClientContext = createContext<LifelineClient | null>(null);

/** Props of {@link LifelineProvider}. */
export interface LifelineProviderProps {
  /** A client from `connect()`; the provider does not close it (its owner does). */
  client: LifelineClient;
  children?: ReactNode;
}

/** Makes `client` available to the hooks below it. */
export function LifelineProvider(props: LifelineProviderProps): ReactNode {
  return createElement(ClientContext.Provider, { value: props.client }, props.children);
}

/**
 * The client of the nearest {@link LifelineProvider}.
 * @throws Error when there is no provider above the component.
 */
export function useLifeline(): LifelineClient {
  const client = useContext(ClientContext);
  if (!client) throw new Error('useLifeline: wrap the component in <LifelineProvider client={…}>');
  return client;
}

/** The whole state snapshot (re-renders on every change; prefer the narrower hooks). */
export function useLifelineState(): LifelineState {
  const client = useLifeline();
  return useSyncExternalStore(client.subscribe, client.getState, client.getState);
}

/**
 * One thread (personalization, messages, `replies` in progress and how recent ones `ended`), or
 * undefined until the server has sent it. Streamed text re-renders at most once per frame.
 */
export function useThread(threadId: string): ThreadState | undefined {
  const client = useLifeline();
  const read = useCallback(() => client.getState().threads[threadId], [client, threadId]);
  return useSyncExternalStore(client.subscribe, read, read);
}

/**
 * The reply of an assistant turn while it is queued or streaming (`send()` resolves with the
 * `turnId`); undefined before it starts and once it ended (its message is then in the thread).
 */
export function useReply(turnId: string): ReplyInProgress | undefined {
  const client = useLifeline();
  const read = useCallback(() => {
    for (const thread of Object.values(client.getState().threads)) {
      const reply = thread.replies?.find((entry) => entry.turnId === turnId);
      if (reply) return reply;
    }
    return undefined;
  }, [client, turnId]);
  return useSyncExternalStore(client.subscribe, read, read);
}

/**
 * The assistant's status for a banner: `unavailable` means messages are saved and answered once
 * it is back; null when the server has no assistant.
 */
export function useAssistant(): LifelineState['assistant'] {
  const client = useLifeline();
  const read = useCallback(() => client.getState().assistant, [client]);
  return useSyncExternalStore(client.subscribe, read, read);
}

/** The user's preferences and a setter that resolves once the server has committed them. */
export function usePreferences(): [JsonObject, (preferences: JsonObject) => Promise<void>] {
  const client = useLifeline();
  const read = useCallback(() => client.getState().preferences, [client]);
  const preferences = useSyncExternalStore(client.subscribe, read, read);
  const set = useCallback(
    async (next: JsonObject) => {
      await client.setPreferences(next);
    },
    [client],
  );
  return [preferences, set];
}

/** What a connection banner needs: the status, the memory service status and the queue size. */
export interface ConnectionView {
  status: ConnectionStatus;
  memory: LifelineState['memory'];
  /** Messages waiting to be acknowledged. */
  pending: number;
}

/** The connection status, memory status and queue size, for a banner. */
export function useConnection(): ConnectionView {
  const client = useLifeline();
  const status = useSyncExternalStore(client.subscribe, client.getStatus, client.getStatus);
  const readMemory = useCallback(() => client.getState().memory, [client]);
  const memory = useSyncExternalStore(client.subscribe, readMemory, readMemory);
  const readPending = useCallback(() => client.getState().pending.length, [client]);
  const pending = useSyncExternalStore(client.subscribe, readPending, readPending);
  return { status, memory, pending };
}
