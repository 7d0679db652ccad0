/** NET NAME: the message aliases, and who may message each (its inbound policy). */
import { NetApiError } from '../../messenger/errors.js';
import { normalizeAlias } from '../../messenger/names.js';
import { isRemote } from '../../security/access.js';
import { parsePolicy, type AliasPolicy } from '../../security/inbound-policy.js';
import { operation } from '../operation.js';
import { ownsAlias } from '../ownership.js';

export const aliasOperations = {
  'names.list': operation()({
    action: 'names.read',
    run: ({ services }) => services.messenger.listNames(),
  }),
  'names.get': operation<{ name: string }>()({
    action: 'names.read',
    run: ({ services }, { name }) => services.messenger.aliases.get(name),
  }),
  'names.add': operation<{ name: string }>()({
    action: 'names.add',
    run: async ({ services, principal }, params) => {
      const { messenger } = services;
      const name = normalizeAlias(params.name, 'message name', messenger.charset);
      const refused = await services.aliasGate.problem({ ...principal, administrator: services.access.isAdmin(principal) }, name);
      if (refused !== null) throw new NetApiError(refused.status, refused.reason);
      return messenger.aliases.add(name, principal.uid);
    },
  }),
  'names.delete': operation<{ name: string }>()({
    action: 'names.delete',
    run: async ({ services, principal }, params) => {
      const { messenger } = services;
      // "for others": a local caller who is not an administrator deletes only names it added
      const alias = messenger.aliases.get(params.name);
      if (!isRemote(principal) && !services.access.isAdmin(principal) && alias.kind !== 'computer' && !ownsAlias(messenger, alias, principal)) {
        throw new NetApiError('ERROR_ACCESS_DENIED', `${alias.name} belongs to another user; only an administrator may delete it.`);
      }
      const deleted = await messenger.aliases.delete(alias.name);
      await services.aliasPolicies.set(deleted.name, null);
      return deleted;
    },
  }),
  'names.policy': operation<{ name: string }>()({
    action: 'names.read',
    run: ({ services }, { name }): AliasPolicy => services.aliasPolicies.get(services.messenger.aliases.get(name).name),
  }),
  'names.setPolicy': operation<{ name: string; policy: { legacy?: string; allow?: string[]; deny?: string[] } | null }>()({
    action: 'names.add',
    run: async ({ services, principal }, params): Promise<AliasPolicy> => {
      const alias = services.messenger.aliases.get(params.name);
      // Remote callers own no alias here: who may message one is for its owner or an administrator.
      const owner = !isRemote(principal) && ownsAlias(services.messenger, alias, principal);
      if (!owner && !services.access.isAdmin(principal)) {
        throw new NetApiError('ERROR_ACCESS_DENIED', `Only ${alias.name}'s owner or an administrator may set who can message it.`);
      }
      await services.aliasPolicies.set(alias.name, params.policy === null ? null : parsePolicy(params.policy));
      return services.aliasPolicies.get(alias.name);
    },
  }),
};
