import { parseArgs } from 'node:util';
import type { AliasPolicy } from '../../lib/client.js';
import { oemUpperCase } from '../../messenger/names.js';
import { UsageError, type CliIo } from '../io.js';
import { common, withClient, type Command } from '../shared.js';
import { printUsage } from '../usage.js';

/** `netsend name`: NET NAME (list, add, delete this host's aliases) and who may message an alias. */
export const command: Command = { name: 'name', run };

async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      ...common,
      add: { type: 'boolean', default: false },
      delete: { type: 'boolean', default: false },
      allow: { type: 'string', multiple: true },
      deny: { type: 'string', multiple: true },
      legacy: { type: 'string' },
      policy: { type: 'boolean', default: false },
      'clear-policy': { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: true,
  });
  if (values.help) return printUsage(io);
  let add = values.add;
  let del = values.delete;
  const names: string[] = [];
  for (const word of positionals) {
    if (/^\/add$/i.test(word)) add = true;
    else if (/^\/d(el(ete)?)?$/i.test(word)) del = true;
    else names.push(word);
  }
  if (add && del) throw new UsageError('give /add or /delete, not both');
  if (names.length > 1) throw new UsageError(`one name at a time, got ${names.length}`);
  const [alias] = names;
  if ((add || del) && alias === undefined) throw new UsageError(`/${add ? 'add' : 'delete'} needs a name`);
  const setsPolicy = values.allow !== undefined || values.deny !== undefined || values.legacy !== undefined || values['clear-policy'];
  if ((setsPolicy || values.policy) && (alias === undefined || add || del)) throw new UsageError('policy options take one existing name, without /add or /delete');
  if (alias !== undefined && (setsPolicy || values.policy)) {
    return withClient(values, io, async (client) => {
      let policy = await client.policies.get(alias);
      if (setsPolicy) {
        const current: AliasPolicy = values['clear-policy'] ? { allow: [], deny: [] } : policy;
        policy = await client.policies.set(alias, {
          ...(values.legacy !== undefined ? { legacy: values.legacy } : current.legacy !== undefined ? { legacy: current.legacy } : {}),
          allow: [...current.allow, ...(values.allow ?? [])],
          deny: [...current.deny, ...(values.deny ?? [])],
        });
      }
      if (values.json) io.stdout.write(`${JSON.stringify(policy)}\n`);
      else {
        io.stdout.write(`${oemUpperCase(alias)}\n  legacy input: ${policy.legacy ?? '(the host setting)'}\n  allow: ${policy.allow.join(' ') || '(anyone)'}\n  deny: ${policy.deny.join(' ') || '(no one)'}\n`);
      }
    });
  }

  return withClient(values, io, async (client) => {
    if (alias === undefined) {
      const aliases = await client.names.list();
      if (values.json) io.stdout.write(`${JSON.stringify(aliases)}\n`);
      else io.stdout.write(`Name\n\n${'-'.repeat(79)}\n${aliases.map((a) => `${a.name}\n`).join('')}The command completed successfully.\n`);
      return;
    }
    const result = del ? await client.names.delete(alias) : add ? await client.names.add(alias) : await client.names.get(alias);
    if (values.json) io.stdout.write(`${JSON.stringify(result)}\n`);
    else if (add || del) io.stdout.write('The command completed successfully.\n');
    else io.stdout.write(`${result.name} (${result.kind})\n`);
  });
}
