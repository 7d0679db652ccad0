import { endpointText } from '../messenger/address.js';
import { isVerified, type IncomingMessage } from '../messenger/message.js';
import { NERR } from '../messenger/status.js';
import type { Accounts } from './accounts.js';
import type { AuditLog } from './audit.js';
import type { InboundPolicy } from './inbound-policy.js';

/**
 * The recipient alias's rules for an arriving message, as the front door asks them (its
 * `policy`): the sender's address, account, groups and host against the alias's allow and deny
 * lists and legacy-input setting. A refusal is audited. Resolves to the refusal's reason, or null.
 */
export function recipientRules(parts: {
  inbound: InboundPolicy;
  accounts: Accounts;
  /** A local uid's login name (the host's accounts). */
  userName: (uid: number | null) => string | null;
  audit: AuditLog;
}) {
  const { inbound, accounts, userName, audit } = parts;
  return async (message: IncomingMessage, alias: string): Promise<string | null> => {
    const { sender } = message;
    const user = sender.user ?? (message.via === 'local' ? userName(sender.uid) : null);
    const needsGroups = user !== null && message.via === 'local' && inbound.usesGroups(alias);
    const groups = needsGroups ? await accounts.groupsOf(user).catch(() => []) : [];
    const { address } = sender;
    // a host: rule names a verified netsend host; a gateway that relayed a legacy message is not its sender
    const host = isVerified(message.via) ? (sender.host?.name ?? null) : null;
    const problem = inbound.problem(message, alias, { address, user, groups, host });
    if (problem !== null) {
      audit.record({
        event: 'refused-message',
        principal: `${message.from}${user ? ` (user ${user})` : ''}${host ? ` on ${host}` : ''}`,
        source: address === null ? null : endpointText({ address, port: sender.port }),
        detail: `to ${alias} via ${message.via}: ${problem}`,
        status: NERR.ERROR_ACCESS_DENIED,
      });
    }
    return problem;
  };
}
