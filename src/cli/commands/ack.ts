import { parseArgs } from 'node:util';
import { UsageError, type CliIo } from '../io.js';
import { common, withClient, type Command } from '../shared.js';
import { printUsage } from '../usage.js';

/** `netsend ack ID …`: acknowledges received messages (OK on the pop-up), for their senders' receipts. */
export const command: Command = { name: 'ack', run };

async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: common, strict: true, allowPositionals: true });
  if (values.help) return printUsage(io);
  const ids = positionals.map(Number);
  if (ids.length === 0 || !ids.every((id) => Number.isSafeInteger(id) && id > 0)) throw new UsageError('netsend ack ID … (the ids of inbox --json)');
  return withClient(values, io, async (client) => {
    for (const id of ids) {
      const receipt = await client.acknowledge(id);
      io.stdout.write(values.json ? `${JSON.stringify(receipt)}\n` : `Message ${id} acknowledged.\n`);
    }
  });
}
