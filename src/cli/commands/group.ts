import { parseArgs } from 'node:util';
import { UsageError, type CliIo } from '../io.js';
import { NO_ENTRIES, common, withClient, type Command } from '../shared.js';
import { printUsage } from '../usage.js';

/** `netsend group …`: the groups of netsend's accounts, listed or changed one member at a time. */
export const command: Command = { name: 'group', run };

async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: common, strict: true, allowPositionals: true });
  if (values.help) return printUsage(io);
  const [action = 'list', groupName, member, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`unexpected "${extra.join(' ')}"`);
  return withClient(values, io, async (client) => {
    if (action === 'list') {
      const users = await client.users.list();
      const groups = new Map<string, string[]>();
      for (const u of users) for (const g of u.groups) groups.set(g, [...(groups.get(g) ?? []), u.name]);
      const sorted = [...groups].sort(([a], [b]) => a.localeCompare(b));
      if (values.json) io.stdout.write(`${JSON.stringify(sorted.map(([group, members]) => ({ group, members })))}\n`);
      else if (sorted.length === 0) io.stdout.write(NO_ENTRIES);
      else for (const [g, members] of sorted) io.stdout.write(`${g}: ${members.join(', ')}\n`);
      return;
    }
    if ((action !== 'add' && action !== 'remove') || groupName === undefined || member === undefined) {
      throw new UsageError('netsend group add|remove GROUP USER');
    }
    const result = await client.users.setGroups(member, action === 'add' ? { add: [groupName] } : { remove: [groupName] });
    io.stdout.write(values.json ? `${JSON.stringify(result)}\n` : 'The command completed successfully.\n');
  });
}
