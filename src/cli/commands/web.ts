import { parseArgs } from 'node:util';
import { UsageError, type CliIo } from '../io.js';
import { common, withClient, type Command } from '../shared.js';
import { printUsage } from '../usage.js';

/** `netsend web url`: a one-time login URL for the web inbox. */
export const command: Command = { name: 'web', run };

async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: common, strict: true, allowPositionals: true });
  if (values.help) return printUsage(io);
  if (positionals.length !== 1 || positionals[0] !== 'url') throw new UsageError('netsend web url');
  if (values.server !== undefined) throw new UsageError('a web login URL is only given on this host (no --server)');
  return withClient(values, io, async (client) => {
    const { url } = await client.web.url();
    io.stdout.write(values.json ? `${JSON.stringify({ url })}\n` : `${url}\n`);
  });
}
