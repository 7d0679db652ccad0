/** How far a message sent through the hub got, as its recipient's receipts say: the states, their order, and the outbox's columns read back. */
import type { MessageState } from '../messenger/events.js';

export type HubReceiptState = 'stored' | 'refused' | MessageState;
export type OutboxState = 'queued' | HubReceiptState;

type Surfaces = Record<string, { state: MessageState; by: string | null; at: string }>;

/** How far a message got: later states win, as a receipt reads them. */
export const RANK: Readonly<Record<OutboxState, number>> = { queued: 0, stored: 1, delivered: 2, shown: 3, read: 4, expired: 5, refused: 5, acknowledged: 6 };

/** States a message goes no further from, without having got anywhere. */
export const ENDED: ReadonlySet<OutboxState> = new Set(['expired', 'refused']);

/** Whether a message in state `now` has got as far as `wanted`: an expired or refused one got nowhere. */
export const reaches = (now: OutboxState, wanted: HubReceiptState): boolean => (ENDED.has(now) ? wanted === now : RANK[now] >= RANK[wanted]);

/** Whether one waiting for `wanted` hears of state `now`: it got there, or it ended without. */
export const settles = (now: OutboxState, wanted: HubReceiptState): boolean => reaches(now, wanted) || ENDED.has(now);

/** The outbox's surfaces column: surface → { state, by, at }. */
export function parseSurfaces(json: string): Surfaces {
  try {
    const value = JSON.parse(json) as unknown;
    return typeof value === 'object' && value !== null ? (value as Surfaces) : {};
  } catch {
    return {};
  }
}
