/** What a host seals for the hub: a message to another host, and a receipt back to a sender. */
import { randomUUID } from 'node:crypto';
import type { OutgoingMessage } from '../messenger/outgoing.js';
import type { HostIdentity } from '../security/host-identity.js';
import { seal, type Envelope } from './envelope.js';
import type { HubReceiptState } from './outbox.js';
import type { HostRecord } from './registry.js';

/** A message received through the hub, as its receipts refer to it. */
export interface Origin {
  readonly envelopeId: string;
  readonly senderHost: string;
  readonly from: string;
  readonly to: string;
}

/** A message sealed to the host that holds its recipient, signed by this host. */
export function messageEnvelope(identity: HostIdentity, message: OutgoingMessage, recipient: HostRecord, kind: 'message' | 'relayed' = 'message'): Envelope {
  return seal(
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
    { sender: identity, recipientBox: recipient.boxKey },
  );
}

/** What became of a message, for the host that sent it: sealed to that host, like any message. */
export function receiptEnvelope(
  identity: HostIdentity,
  origin: Origin,
  sender: HostRecord,
  event: { state: HubReceiptState; surface: string; by: string | null },
): Envelope {
  return seal(
    {
      id: randomUUID(),
      from: origin.to,
      to: origin.from,
      recipientHost: sender.name,
      sentAt: new Date().toISOString(),
      expiresAt: null,
      priority: 'normal',
      kind: 'receipt',
      text: JSON.stringify({ ref: origin.envelopeId, ...event, at: new Date().toISOString() }),
      user: null,
    },
    { sender: identity, recipientBox: sender.boxKey },
  );
}
