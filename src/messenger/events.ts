/**
 * What became of a message after it was stored, on each surface that shows it (the web inbox,
 * the desktop, later the sender's receipts). Kept as an append-only log in the store.
 */
export const MESSAGE_STATES = ['delivered', 'shown', 'read', 'acknowledged', 'expired'] as const;
export type MessageState = (typeof MESSAGE_STATES)[number];

export const isMessageState = (value: unknown): value is MessageState => MESSAGE_STATES.includes(value as MessageState);

/** Surfaces are short lowercase words ("web", "desktop", "tty", "receipt"). */
export const surfaceProblem = (surface: unknown): string | null =>
  typeof surface === 'string' && /^[a-z][a-z0-9-]{0,31}$/.test(surface) ? null : 'A surface is 1-32 lowercase letters, digits or dashes.';

export interface MessageEventInput {
  readonly messageId: number;
  readonly state: MessageState;
  readonly surface: string;
  /** Who caused it: an account, a login name, a host; null when unknown. */
  readonly by: string | null;
}

export interface MessageEvent extends MessageEventInput {
  readonly id: number;
  /** ms since the Unix epoch */
  readonly at: number;
}

/**
 * A message's newest event overall, and on each surface the furthest it got there (`outranks`):
 * a surface never goes back, so a page that marks read what was acknowledged keeps 'acknowledged'.
 */
export interface MessageStates {
  readonly messageId: number;
  readonly latest: MessageEvent;
  readonly surfaces: Readonly<Record<string, MessageEvent>>;
}

/**
 * How far each state got: delivered (on an open page) < expired (nobody looked in time; it is
 * recorded only for messages never shown, read or acknowledged) < shown < read < acknowledged.
 */
export const STATE_RANK: Readonly<Record<MessageState, number>> = { delivered: 1, expired: 2, shown: 3, read: 4, acknowledged: 5 };

/** Whether event `a` stands over `b` in a receipt: the higher state, of two equal the newer. */
export function outranks(a: MessageEvent, b: MessageEvent): boolean {
  return STATE_RANK[a.state] > STATE_RANK[b.state] || (STATE_RANK[a.state] === STATE_RANK[b.state] && a.id > b.id);
}

/** Whether anyone has read (or acknowledged, which implies reading) the message on any surface. */
export function hasBeenRead(states: MessageStates | undefined): boolean {
  return states !== undefined && Object.values(states.surfaces).some((e) => e.state === 'read' || e.state === 'acknowledged');
}

export function hasBeenAcknowledged(states: MessageStates | undefined): boolean {
  return states !== undefined && Object.values(states.surfaces).some((e) => e.state === 'acknowledged');
}

/** A sender's view of a message: how far it got, and who acknowledged it where. */
export interface Receipt {
  readonly id: number;
  /**
   * (queued: through the hub, not yet stored by the recipient host) stored → delivered → shown →
   * read → acknowledged, or expired when nobody saw it in time; or refused by the recipient host
   * (through the hub: no such name there now, or the name's rules), with its words in `refusal`.
   */
  readonly state: 'queued' | 'stored' | 'refused' | MessageState;
  /** Through the hub, queued and not taken by the hub yet: it waits in the sending host's outbox. */
  readonly inOutbox?: true;
  /** Why the recipient host refused it: the NET_API_STATUS and message it would have answered a direct send with. */
  readonly refusal?: { readonly status: number; readonly message: string };
  readonly at: string | null;
  readonly acknowledgedBy?: string;
  readonly acknowledgedOn?: string;
  readonly surfaces: Readonly<Record<string, { state: MessageState; by: string | null; at: string }>>;
}

/** The receipt of a message from its states: the furthest any surface got (acknowledged wins; of equals, the newest). */
export function receiptOf(messageId: number, states: MessageStates | undefined): Receipt {
  const surfaces = Object.fromEntries(
    Object.entries(states?.surfaces ?? {}).map(([surface, e]) => [surface, { state: e.state, by: e.by, at: new Date(e.at).toISOString() }]),
  );
  const events = Object.values(states?.surfaces ?? {});
  const best = events.reduce<MessageEvent | undefined>((a, e) => (a === undefined || outranks(e, a) ? e : a), undefined);
  if (best === undefined) return { id: messageId, state: 'stored', at: null, surfaces };
  return {
    id: messageId,
    state: best.state,
    at: new Date(best.at).toISOString(),
    ...(best.state === 'acknowledged' ? { acknowledgedOn: best.surface, ...(best.by ? { acknowledgedBy: best.by } : {}) } : {}),
    surfaces,
  };
}
