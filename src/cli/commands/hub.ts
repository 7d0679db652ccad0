import { parseArgs } from 'node:util';
import type { ResultOf } from '../../lib/client.js';
import { UsageError, type CliIo } from '../io.js';
import { common, withClient, type Command } from '../shared.js';
import { printUsage } from '../usage.js';

/** `netsend hub status`: the organisation hub as this host sees it. */
export const command: Command = { name: 'hub', run };

async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: common, strict: true, allowPositionals: true });
  if (values.help) return printUsage(io);
  if (positionals.length !== 1 || positionals[0] !== 'status') throw new UsageError('netsend hub status [--json]');
  return withClient(values, io, async (client) => {
    const status = await client.call('hub.status', {});
    io.stdout.write(values.json ? `${JSON.stringify(status)}\n` : describe(status));
  });
}

function describe(status: ResultOf<'hub.status'>): string {
  if (status.state === 'off') return 'hub: off (no "hub servers" set: this host is serverless on its LAN)\n';
  const lines = [
    `hub: ${status.state}${status.server === null ? '' : ` to ${status.server}`}, realm ${status.realm}`,
    `outbox: ${status.pending} waiting for the hub`,
    `registry: ${status.registry} names`,
    `this host holds: ${status.claims.length === 0 ? '(none yet)' : status.claims.join(', ')}`,
  ];
  if (status.conflicts.length > 0) lines.push(`held by other hosts: ${status.conflicts.join(', ')}`);
  return `${lines.join('\n')}\n`;
}
