import { parseArgs } from 'node:util';
import type { AuditRecord } from '../../lib/client.js';
import { UsageError, type CliIo } from '../io.js';
import { NO_ENTRIES, common, localTime, withClient, type Command } from '../shared.js';
import { printUsage } from '../usage.js';

/** `netsend audit`: remote calls and refused messages, the newest --limit of them. */
export const command: Command = { name: 'audit', run };

async function run(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args, options: { ...common, limit: { type: 'string' } }, strict: true });
  if (values.help) return printUsage(io);
  const limit = values.limit === undefined ? 1000 : Number(values.limit);
  if (!Number.isSafeInteger(limit) || limit <= 0) throw new UsageError('--limit takes a whole number');
  return withClient(values, io, async (client) => {
    let records: AuditRecord[] = [];
    for (let afterId = 0; ; ) {
      const page = await client.audit.list({ afterId, limit: 1000 });
      const last = page.at(-1);
      if (last === undefined) break;
      records = records.concat(page).slice(-limit);
      afterId = last.id;
    }
    if (records.length === 0 && !values.json) io.stdout.write(NO_ENTRIES);
    for (const r of records) {
      io.stdout.write(
        values.json
          ? `${JSON.stringify({ ...r, at: new Date(r.at).toISOString() })}\n`
          : `${localTime(r.at)}  ${r.event}  ${r.principal}${r.source ? ` from ${r.source}` : ''}  ${r.detail}  status ${r.status}\n`,
      );
    }
  });
}
