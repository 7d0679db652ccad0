/**
 * A message another netsend host delivers (op `deliver`): its fields bounded, its signature
 * checked against the host key of the handshake, then received as any message is.
 */
import type { ControlServices } from '../../control/handlers.js';
import { NetApiError } from '../../messenger/errors.js';
import { normalizeAlias } from '../../messenger/names.js';
import { isPriority, isTitleAsSent } from '../../messenger/message.js';
import { peerOf, senderOf } from '../../messenger/sender.js';
import { MAX_TTL_SECONDS } from '../../messenger/messenger.js';
import { verifyMessage } from '../../security/host-identity.js';
import type { PeerHost } from './host-check.js';
import { DELIVERY_FIELD_LIMITS } from './protocol.js';

/**
 * Receives the message `host` sent from `source`; `pin` pins a host seen for the first time.
 * @returns the stored message's id, for the sender's receipt questions
 */
export async function acceptDelivery(
  services: ControlServices,
  request: Record<string, unknown>,
  host: PeerHost,
  source: string,
  pin: (host: PeerHost) => Promise<void>,
): Promise<unknown> {
  const { from, to, text, user, sentAt, signature, priority, ttl } = request;
  if (typeof text !== 'string' || typeof sentAt !== 'string' || typeof signature !== 'string' || (user !== null && typeof user !== 'string')) {
    throw new NetApiError('ERROR_INVALID_PARAMETER', 'A delivery needs from, to, text, title, user, sentAt, priority, ttl and signature.');
  }
  // a title is signed as sent: one the sender's own rule would have changed is not a sender's
  const title = request.title ?? null;
  if (title !== null && (typeof title !== 'string' || !isTitleAsSent(title))) throw new NetApiError('ERROR_INVALID_PARAMETER', 'The title of the delivery is not valid.');
  const bounds = DELIVERY_FIELD_LIMITS;
  if ((user !== null && user.length > bounds.user) || sentAt.length > bounds.sentAt || signature.length > bounds.signature) {
    throw new NetApiError('ERROR_INVALID_PARAMETER', `A delivery's user is at most ${bounds.user} characters, its sentAt ${bounds.sentAt}, its signature ${bounds.signature}.`);
  }
  if (!isPriority(priority) || (ttl !== null && (typeof ttl !== 'number' || !Number.isSafeInteger(ttl) || ttl < 0 || ttl > MAX_TTL_SECONDS))) {
    throw new NetApiError('ERROR_INVALID_PARAMETER', 'The priority or time to live of the delivery is not valid.');
  }
  const charset = services.messenger.charset;
  const fields = { from: normalizeAlias(from, 'from name', charset), to: normalizeAlias(to, 'message name', charset), text, title, user, sentAt, host: host.name, priority, ttl };
  if (!verifyMessage(fields, signature, host.certificate.publicKey)) {
    services.audit.record({ event: 'refused-message', principal: `host ${host.name}`, source, detail: 'bad signature', status: 5 });
    throw new NetApiError('ERROR_ACCESS_DENIED', 'The message signature does not match the host key.');
  }
  if (text.length * 2 > services.messenger.maxMessageBytes || !text.isWellFormed()) {
    throw new NetApiError('ERROR_INVALID_PARAMETER', `The message is over this host's limit of ${services.messenger.maxMessageBytes} bytes, or not valid text.`);
  }
  // A new host is pinned only once the front door and the alias's rules let its message in, so
  // a refused flood of fresh keys writes nothing to known-hosts.
  const pinNew = async () => {
    if (host.verdict !== 'new') return;
    await pin(host).catch((error: unknown) => {
      services.audit.record({ event: 'refused-host', principal: `host ${host.name}`, source, detail: `${(error as Error).message} (pinned while this session was open)`, status: 5 });
      throw error;
    });
  };
  const stored = await services.messenger.receive({
    from: fields.from,
    to: fields.to,
    ...(title === null ? {} : { title }),
    text,
    via: 'netsend',
    sender: senderOf({ ...peerOf(source), user, host: { name: host.name, fingerprint: host.fingerprint } }),
    priority,
    ...(ttl === null ? {} : { expiresAt: Date.now() + ttl * 1000 }),
  }, { beforeStore: pinNew });
  return { id: stored.id };
}
