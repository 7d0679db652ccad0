/** netsend's accounts for remote callers: users, groups, passwords, tokens and host keys. */
import { NetApiError } from '../../messenger/errors.js';
import { operation, optionalString, stringList } from '../operation.js';

export const accountOperations = {
  'users.list': operation()({
    action: 'administer',
    run: ({ services }) => services.accounts.list(),
  }),
  'users.add': operation<{ user: string; password: string | null; groups?: string[] | null }>()({
    action: 'administer',
    run: async ({ services }, { user, password, groups: given }) => {
      // none given, or null: no groups
      const groups = given ?? [];
      if (!Array.isArray(groups) || groups.length > 64) throw new NetApiError('ERROR_INVALID_PARAMETER', 'groups must be a list of group names.');
      await services.accounts.add(user, optionalString(password, 'password'), groups as string[]);
      return { user: String(user), groups: groups as string[] };
    },
  }),
  'users.delete': operation<{ user: string }>()({
    action: 'administer',
    run: async ({ services }, { user }) => {
      await services.accounts.delete(user);
      return { user: String(user) };
    },
  }),
  'users.password': operation<{ user: string; password: string }>()({
    action: 'administer',
    run: async ({ services }, { user, password }) => {
      await services.accounts.setPassword(user, String(optionalString(password, 'password') ?? ''));
      return { user: String(user) };
    },
  }),
  'users.token': operation<{ user: string }>()({
    action: 'administer',
    run: async ({ services }, { user }) => ({ user: String(user), token: await services.accounts.issueToken(user) }),
  }),
  'users.groups': operation<{ user: string; add?: string[]; remove?: string[] }>()({
    action: 'administer',
    run: async ({ services }, params) => {
      const add = stringList(params.add, 'add');
      const remove = stringList(params.remove, 'remove');
      for (const group of add) await services.accounts.setMembership(params.user, group, true);
      for (const group of remove) await services.accounts.setMembership(params.user, group, false);
      return { user: String(params.user), groups: await services.accounts.groupsOf(String(params.user)) };
    },
  }),
  'users.key': operation<{ user: string; fingerprint: string }>()({
    action: 'administer',
    run: async ({ services }, { user, fingerprint }) => {
      await services.accounts.bindHostKey(user, fingerprint);
      return { user: String(user), fingerprint: String(fingerprint) };
    },
  }),
  'users.tokens': operation<{ user: string }>()({
    action: 'administer',
    run: ({ services }, { user }) => services.accounts.credentials(user),
  }),
  'users.revoke': operation<{ user: string; credential: string | null }>()({
    action: 'administer',
    run: async ({ services }, { user, credential }) => {
      // null (not a missing field) revokes them all, so a client that forgot the field revokes nothing
      if (credential === undefined) throw new NetApiError('ERROR_INVALID_PARAMETER', 'credential: an id, a token, a host key fingerprint, or null for all of them.');
      return { user: String(user), revoked: await services.accounts.revoke(user, credential) };
    },
  }),
};
