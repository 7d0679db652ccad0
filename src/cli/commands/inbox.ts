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
      await showFrom(client, limit === Infinity ? 0 : await startOfNewest(client, limit));
    }
    if (shown === 0 && !values.json) io.stdout.write(NO_ENTRIES);
  });

  /**
   * The id after which the newest `count` messages start: pages back from the newest, so it
   * reads only those messages (and no message's text is kept).
   */
  async function startOfNewest(client: Pick<CliClient, 'inbox'>, count: number): Promise<number> {
    let before: number | undefined;
    // bounded: each page moves `before` down, and a short page is the oldest
    for (let left = count; left > 0; ) {
      const asked = Math.min(left, MAX_INBOX_PAGE);
      const page = await client.inbox.latest(asked, before);
      // a daemon older than this command ignores `before` and gives the newest page again
      if (before !== undefined && page.length > 0 && (page.at(-1) as MessageJson).id >= before) return startByCounting(client, count);
      if (page.length === 0) break;
      left -= page.length;
      before = (page[0] as MessageJson).id;
      if (page.length < asked) break;
    }
    return before === undefined ? 0 : before - 1;
  }

  /** The same, the slow way (an older daemon): reads the inbox forward, keeping only the last `count` ids. */
  async function startByCounting(client: Pick<CliClient, 'inbox'>, count: number): Promise<number> {
    const ids: number[] = [];
    for (let afterId = 0; ; ) {
      const page = await client.inbox.list({ afterId, limit: MAX_INBOX_PAGE });
      if (page.length === 0) break;
      for (const message of page) ids.push(message.id);
      if (ids.length > count) ids.splice(0, ids.length - count);
      afterId = (page.at(-1) as MessageJson).id;
    }
    return ids.length === 0 ? 0 : (ids[0] as number) - 1;
  }

  /**
   * Every message after `afterId`, page by page, each printed as it comes, so memory stays one
   * page whatever the inbox's size; no more than `limit` (messages arriving meanwhile wait).
   */
  async function showFrom(client: Pick<CliClient, 'inbox'>, afterId: number): Promise<void> {
    for (let cursor = afterId; shown < limit; ) {
      const page = await client.inbox.list({ afterId: cursor, limit: MAX_INBOX_PAGE });
      if (page.length === 0) break;
      for (const message of page.slice(0, limit - shown)) await show(message);
      cursor = (page.at(-1) as MessageJson).id;
    }
  }
}
