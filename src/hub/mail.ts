/** What a host seals for the hub: a message to another host, and receipts back to a sender (written and read here). */
import { randomUUID } from 'node:crypto';
import { isMessageState, type MessageState } from '../messenger/events.js';
import { printableName } from '../messenger/message.js';
import type { OutgoingMessage } from '../messenger/outgoing.js';
import type { HostIdentity } from '../security/host-identity.js';
import { envelopeBytesFor, seal, sealItem, type Envelope, type SealedItem } from './envelope.js';
import type { HubReceiptState } from './progress.js';
import { envelopeVersionFor } from './records.js';
import type { HostRecord } from './registry.js';

/** A message received through the hub, as its receipts refer to it. */
export interface Origin {
  readonly envelopeId: string;
  readonly senderHost: string;
  /** The sending host's key (its fingerprint): its receipts go to that key, not to another that took the name since. */
  readonly senderKey: string;
  readonly from: string;
  readonly to: string;
}

/** A message sealed to the host that holds its recipient; signed as it is published (alone, or in a bundle: parcels.ts). */
export function messageEnvelope(identity: HostIdentity, message: OutgoingMessage, recipient: HostRecord, kind: 'message' | 'relayed' = 'message'): SealedItem {
  return sealItem(
    {
      id: randomUUID(),
      from: message.from,
      to: message.to,
      recipientHost: recipient.name,
      sentAt: new Date().toISOString(),
      expiresAt: message.ttlSeconds === undefined ? null : Date.now() + message.ttlSeconds * 1000,
      priority: message.priority ?? 'normal',
      kind,
      text: message.text,
      ...(message.title === undefined ? {} : { title: message.title }),
      user: message.user ?? null,
    },
    { sender: identity, recipientBox: recipient.boxKey, version: envelopeVersionFor(recipient) },
  );
}

/** What became of one message, as its receipt tells its sender. */
export interface ReceiptEvent {
  /** The message's envelope id. */
  readonly ref: string;
  readonly state: HubReceiptState;
  readonly surface: string;
  readonly by: string | null;
  readonly at: string;
  /** With 'refused': the status and words the recipient host refused it with. */
  readonly refusal?: Refusal;
}

export interface Refusal {
  readonly status: number;
  readonly message: string;
}

/** The longest refusal message a receipt carries. */
const REFUSAL_CHARACTERS = 512;

/** The most UTF-16 bytes of receipts one envelope carries: its envelope stays far below any hub's max_payload. */
const RECEIPTS_TEXT_BYTES = 32 * 1024;
export const RECEIPTS_ENVELOPE_BYTES = envelopeBytesFor(RECEIPTS_TEXT_BYTES);

/**
 * Receipts for the host that sent their messages, sealed to it like any message: as few
 * envelopes as hold them (a JSON array each, in order; one alone as an object), since a burst of
 * messages brings a burst of receipts and each envelope costs a signature, a check and a stream
 * write. The header's names are the first receipt's message's, the other way round.
 */
export function receiptsEnvelopes(identity: HostIdentity, sender: HostRecord, receipts: ReadonlyArray<{ event: ReceiptEvent; origin: Origin }>): Envelope[] {
  const texts = receipts.map((receipt) => bounded(receipt.event));
  const envelopes: Envelope[] = [];
  for (let start = 0, end = 1; start < texts.length; start = end++) {
    // as many as fit after the first (the brackets and commas counted), in their order
    for (let length = (texts[start] as string).length + 2; end < texts.length && (length + (texts[end] as string).length + 1) * 2 <= RECEIPTS_TEXT_BYTES; end++) {
      length += (texts[end] as string).length + 1;
    }
    const first = receipts[start] as (typeof receipts)[number];
    // one alone as an object, as hosts before batches send and read it
    const text = end - start === 1 ? (texts[start] as string) : `[${texts.slice(start, end).join(',')}]`;
    envelopes.push(
      seal(
        {
          id: randomUUID(),
          from: first.origin.to,
          to: first.origin.from,
          recipientHost: sender.name,
          sentAt: new Date().toISOString(),
          expiresAt: null,
          priority: 'normal',
          kind: 'receipt',
          text,
          user: null,
        },
        { sender: identity, recipientBox: sender.boxKey, version: envelopeVersionFor(sender) },
      ),
    );
  }
  return envelopes;
}

type ParsedReceipt = { ref: string; state: 'stored' | 'refused' | MessageState; surface: string | null; by: string | null; at: string; refusal?: Refusal };

/** The receipts in an envelope's text: a JSON array of them (one object from hosts before batches); what is not one is skipped. */
export function parseReceipts(text: string): ParsedReceipt[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return [];
  }
  return (Array.isArray(value) ? value : [value]).flatMap((receipt: unknown) => {
    const parsed = typeof receipt === 'object' && receipt !== null ? parseReceipt(receipt) : null;
    return parsed === null ? [] : [parsed];
  });
}

/** A receipt's fields checked and bounded; null when it is not one. */
function parseReceipt(receipt: { ref?: unknown; state?: unknown; surface?: unknown; by?: unknown; at?: unknown; refusal?: unknown }): ParsedReceipt | null {
  const state = receipt.state === 'stored' || receipt.state === 'refused' || isMessageState(receipt.state) ? receipt.state : null;
  if (typeof receipt.ref !== 'string' || state === null) return null;
  const refusal = state === 'refused' ? parseRefusal(receipt.refusal) : undefined;
  if (refusal === null) return null;
  return {
    ref: receipt.ref,
    state,
    ...(refusal === undefined ? {} : { refusal }),
    surface: typeof receipt.surface === 'string' ? receipt.surface.slice(0, 32) : null,
    by: typeof receipt.by === 'string' ? receipt.by.slice(0, 256) : null,
    at: typeof receipt.at === 'string' ? receipt.at.slice(0, 40) : new Date().toISOString(),
  };
}

/** A receipt's JSON, its refusal's words cut to what a receiver reads. */
const bounded = (event: ReceiptEvent): string =>
  JSON.stringify(event.refusal === undefined ? event : { ...event, refusal: { ...event.refusal, message: event.refusal.message.slice(0, REFUSAL_CHARACTERS) } });

/** A refusal as the outbox keeps it (JSON of a checked one); a blank one if the column is not that. */
export const refusalFromJson = (json: string): Refusal => {
  try {
    return parseRefusal(JSON.parse(json)) ?? { status: 0, message: '' };
  } catch {
    return { status: 0, message: '' };
  }
};

/** A refusal's status (a NET_API_STATUS) and words, bounded; null when it is not one. */
function parseRefusal(value: unknown): Refusal | null {
  const { status, message } = (typeof value === 'object' && value !== null ? value : {}) as { status?: unknown; message?: unknown };
  if (typeof status !== 'number' || !Number.isSafeInteger(status) || status <= 0 || status > 0xffff || typeof message !== 'string') return null;
  // another host's words, shown on terminals: no control characters or escape sequences
  return { status, message: printableName(message.slice(0, REFUSAL_CHARACTERS)) };
}
