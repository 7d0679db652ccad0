import type { Alias } from '../messenger/aliases.js';
import type { Messenger } from '../messenger/messenger.js';
import { oemUpperCase } from '../messenger/names.js';
import type { Principal } from '../security/access.js';
import type { ControlServices } from './services.js';

/**
 * Whose messages a caller may read and acknowledge: an administrator all (null); anyone else
 * those to its own aliases and to the workgroup, as on the web page.
 */
export function readableBy(services: ControlServices, principal: Principal): string[] | null {
  if (services.access.isAdmin(principal)) return null;
  const { messenger } = services;
  const own = messenger.aliases.list().filter((alias) => ownsAlias(messenger, alias, principal));
  return [...own.map((alias) => alias.name), oemUpperCase(services.info.workgroup, messenger.charset)];
}

/** A local caller's own aliases: those it added, and the alias of its login name (whoever added it). */
export function ownsAlias(messenger: Messenger, alias: Alias, principal: Principal): boolean {
  if (principal.kind === 'local' && principal.name !== '' && alias.name === oemUpperCase(principal.name, messenger.charset)) return true;
  const owner = messenger.aliases.ownerOf(alias.name);
  if (owner !== undefined) return owner !== null && owner === principal.uid;
  return alias.kind === 'user' && principal.name !== '' && alias.name === oemUpperCase(principal.name, messenger.charset);
}
