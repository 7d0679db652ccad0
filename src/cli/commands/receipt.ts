import { parseArgs } from 'node:util';
import { printableName } from '../../messenger/message.js';
import { UsageError, type CliIo } from '../io.js';
import { common, localTime, withClient, type Command } from '../shared.js';
import { printUsage } from '../usage.js';

/** `netsend receipt ID`: what became of a message this caller sent. */
export const command: Command = { name: 'receipt', run };

async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { ...common, at: { type: 'string' } }, strict: true, allowPositionals: true });
  if (values.help) return printUsage(io);
  const [idText, ...extra] = positionals;
  const id = Number(idText);
  if (extra.length > 0 || !Number.isSafeInteger(id) || id <= 0) throw new UsageError('netsend receipt ID [--at HOST:PORT] (the id and host that send --json printed)');
  return withClient(values, io, async (client) => {
    const result = await client.receipt(id, values.at);
    if (values.json) io.stdout.write(`${JSON.stringify(result)}\n`);
    else {
      io.stdout.write(`Message ${id}: ${result.state}${result.at ? ` at ${localTime(result.at)}` : ''}${result.acknowledgedBy ? ` by ${printableName(result.acknowledgedBy)}` : ''}${result.acknowledgedOn ? ` on ${result.acknowledgedOn}` : ''}\n`);
      if (result.inOutbox) io.stdout.write("  in the sending host's outbox: the hub has not taken it yet\n");
      if (result.refusal !== undefined) io.stdout.write(`  refused by the recipient's host (${result.refusal.status}): ${printableName(result.refusal.message)}\n`);
      for (const [surface, e] of Object.entries(result.surfaces)) io.stdout.write(`  ${surface}: ${e.state}${e.by ? ` (${printableName(e.by)})` : ''} at ${localTime(e.at)}\n`);
    }
  });
}
