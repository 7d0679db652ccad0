import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { MAX_INBOX_PAGE } from '../../control/handlers.js';
import type { MessageJson } from '../../lib/client.js';
import { popupLines } from '../../messenger/message.js';
import { UsageError, type CliClient, type CliIo } from '../io.js';
import { NO_ENTRIES, common, withClient, type Command } from '../shared.js';
import { printUsage } from '../usage.js';

/** `netsend inbox`: received messages, newest last, the classic way or as JSON lines. */
export const command: Command = { name: 'inbox', run };

async function run(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args, options: { ...common, limit: { type: 'string' } }, strict: true });
  if (values.help) return printUsage(io);
  const limit = values.limit === undefined ? Infinity : Number(values.limit);
  if (!(limit === Infinity || (Number.isSafeInteger(limit) && limit > 0))) throw new UsageError('--limit takes a whole number');
  /** Writes one message, waiting while the reader is behind, so output never piles up in memory. */
  let shown = 0;
  const show = async (message: MessageJson) => {
    shown += 1;
    const line = values.json
      ? `${JSON.stringify(message)}\n`
      : `${popupLines({ ...message, receivedAt: new Date(message.receivedAt) }, message.provenance ?? null).join('\n')}\n\n`;
    if (!io.stdout.write(line)) await once(io.stdout, 'drain');
  };
  return withClient(values, io, async (client) => {
    // --limit N: the newest N, read newest first from the index, whatever the inbox's size
    if (limit <= MAX_INBOX_PAGE) {
      for (const message of await client.inbox.latest(limit)) await show(message);
    } else {
      await showAll(client);
    }
    if (shown === 0 && !values.json) io.stdout.write(NO_ENTRIES);
  });

  async function showAll(client: Pick<CliClient, 'inbox'>): Promise<void> {
    // the whole inbox (or more than a page of it): page by page, each printed as it comes, so
    // memory stays one page whatever the inbox's size
    let kept: MessageJson[] = [];
    for (let afterId = 0; ; ) {
      const page = await client.inbox.list({ afterId, limit: MAX_INBOX_PAGE });
      if (page.length === 0) break;
      if (limit === Infinity) for (const message of page) await show(message);
      else kept = kept.concat(page).slice(-limit);
      afterId = (page.at(-1) as MessageJson).id;
    }
    for (const message of kept) await show(message);
  }
}
