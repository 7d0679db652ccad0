/**
 * The hub gateway (`hub gateway = yes`): this LAN's legacy clients reach names other hosts of the
 * realm hold through this host. It answers for those names and relays what is sent to them.
 */
import { endpointText } from '../messenger/address.js';
import { NetApiError } from '../messenger/errors.js';
import type { IncomingMessage } from '../messenger/message.js';
import type { SendReport } from '../messenger/outgoing.js';
import { FIELD_LIMITS } from './envelope.js';
import type { Hub } from './hub.js';

/** What the LAN transports ask of the gateway: the names it relays for, and the relay. */
export interface HubGateway {
  holds(name: string): boolean;
  relay(message: IncomingMessage): Promise<SendReport>;
}

/** The gateway of `hub`; `upper` gives a name as the realm keeps it (upper case in the OEM code page). */
export function hubGateway(hub: Pick<Hub, 'ownerOf' | 'send'>, upper: (name: string) => string): HubGateway {
  return {
    holds: (name) => hub.ownerOf(upper(name)) !== null,
    /**
     * A message a legacy client sent this host for a name another host of the realm holds, sealed
     * and sent there as relayed (shown there as the legacy wire's, unverified).
     * @throws NetApiError NERR_NameNotFound when no other host holds the name now;
     *   ERROR_INVALID_PARAMETER for a sender name the realm cannot carry
     */
    relay: async (message) => {
      const to = upper(message.to);
      const host = hub.ownerOf(to);
      if (host === null) throw new NetApiError('NERR_NameNotFound', `No other host of the organisation holds ${to}.`);
      const { from, text, sender } = message;
      // a legacy client may give any name, or none: the realm carries NetBIOS names only
      if (from.length < 1 || from.length > FIELD_LIMITS.name) {
        throw new NetApiError('ERROR_INVALID_PARAMETER', `The sender's name "${from}" cannot be relayed: a NetBIOS name is 1 to 15 characters.`);
      }
      // the legacy client's endpoint goes sealed in place of a user, for the recipient's rules on addresses
      const client = sender.address === null ? null : endpointText({ address: sender.address, port: sender.port });
      return hub.send({ from, to, text, user: client, ...(message.priority === undefined ? {} : { priority: message.priority }) }, host, 'relayed');
    },
  };
}
