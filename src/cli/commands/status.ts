import { parseArgs } from 'node:util';
import type { ResultOf } from '../../lib/client.js';
import { UsageError, type CliIo } from '../io.js';
import { common, localTime, withClient, type Command } from '../shared.js';
import { printUsage } from '../usage.js';

/** `netsend status`: the daemon's listeners, aliases and hub, as it runs now. */
export const command: Command = { name: 'status', run };

async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: common, strict: true, allowPositionals: true });
  if (values.help) return printUsage(io);
  if (positionals.length > 0) throw new UsageError('netsend status [--json]');
  return withClient(values, io, async (client) => {
    const status = await client.call('daemon.status', {});
    io.stdout.write(values.json ? `${JSON.stringify(status)}\n` : describe(status));
  });
}

function describe(status: ResultOf<'daemon.status'>): string {
  const lines = [`${status.computerName} in workgroup ${status.workgroup} (${status.role}), pid ${status.pid}, started ${localTime(status.startedAt)}`];
  if (status.hostKey !== undefined) lines.push(`host key ${status.hostKey}`);
  const width = Math.max(...status.listeners.map((l) => l.transport.length));
  for (const { transport, endpoints } of status.listeners) {
    lines.push(`${transport.padEnd(width)}  ${endpoints.length > 0 ? endpoints.join(', ') : 'off'}`);
  }
  lines.push(`aliases: ${status.aliases.map((alias) => `${alias.name} (${alias.kind})`).join(', ')}`);
  lines.push(`hub: ${status.hub.state}`);
  return `${lines.join('\n')}\n`;
}
