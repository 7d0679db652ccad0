import { parseArgs } from 'node:util';
import type { Client, Receipt, SendResult } from '../../lib/client.js';
import { oemUpperCase } from '../../messenger/names.js';
import { PRIORITIES, isPriority, printableName, priorityLevel, priorityOfLevel } from '../../messenger/message.js';
import { EXIT, UsageError, readAll, type CliIo } from '../io.js';
import { common, localTime, withClient, type Command } from '../shared.js';
import { printUsage } from '../usage.js';

/** `netsend send`: NET SEND, to a name, the workgroup, a domain or this server's sessions. */
export const command: Command = { name: 'send', run };

/** Largest message read from standard input; the daemon applies its own, smaller limit. */
const MAX_STDIN_BYTES = 1024 * 1024;

async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      ...common,
      from: { type: 'string' },
      host: { type: 'string' },
      priority: { type: 'string' },
      title: { type: 'string' },
      ttl: { type: 'string' },
      wait: { type: 'boolean', default: false },
      time: { type: 'string' },
    },
    strict: true,
    allowPositionals: true,
  });
  if (values.help) return printUsage(io);
  const [to, ...words] = positionals;
  if (to === undefined) throw new UsageError('send needs a recipient: netsend send NAME [TEXT …]');
  const level = values.priority === undefined ? null : priorityLevel(values.priority);
  if (values.priority !== undefined && level === null) throw new UsageError(`--priority takes ${PRIORITIES.join(', ')}, or as ntfy: 1-5, min, default, max`);
  const ttl = values.ttl === undefined ? undefined : Number(values.ttl);
  if (ttl !== undefined && !(Number.isSafeInteger(ttl) && ttl >= 0)) throw new UsageError('--ttl takes a whole number of seconds');
  // msg /w /time: waits for the recipient's acknowledgement, 60 s unless told otherwise
  const waitSeconds = values.time === undefined ? 60 : Number(values.time);
  if (values.time !== undefined && !(values.wait && Number.isFinite(waitSeconds) && waitSeconds > 0 && waitSeconds <= 86_400)) {
    throw new UsageError('--time takes seconds (1-86400) and goes with --wait');
  }
  const domainTarget = /^\/domain(?::(.*))?$/i.exec(to);
  const toUsers = /^\/users$/i.test(to);
  if (values.wait && (to === '*' || domainTarget !== null || toUsers)) throw new UsageError('--wait is for one recipient, not a broadcast');
  // the mailslot broadcast and /USERS go over the legacy wire, which has no titles
  if (values.title !== undefined && (to === '*' || domainTarget !== null || toUsers)) throw new UsageError('--title is for one recipient, not a broadcast');
  let text: string;
  if (words.length > 0) {
    text = words.join(' ');
  } else {
    if (io.stdin.isTTY) io.stderr.write('Type your message, ending it with a Control-D\n');
    text = (await readAll(io.stdin, MAX_STDIN_BYTES)).replace(/\r?\n$/, '');
  }
  let exit: number = EXIT.ok;
  const sent = await withClient(values, io, async (client) => {
    const from = values.from === undefined ? {} : { from: values.from };
    const result = toUsers
      ? await client.sendToUsers({ text, ...from })
      : to === '*' || domainTarget !== null
        ? await client.broadcast({ text, ...from, domain: domainTarget?.[1] || null })
        : await client.send({
            to,
            text,
            ...from,
            ...(values.title === undefined ? {} : { title: values.title }),
            ...(values.host === undefined ? {} : { host: values.host }),
            ...(level === null ? {} : { priority: isPriority(values.priority) ? values.priority : priorityOfLevel(level) }),
            ...(ttl === undefined ? {} : { ttl }),
          });
    if (result.delivered === 'remote' && result.heardNowhere) {
      io.stderr.write('netsend: this host is on loopback only ("interfaces", default lo): no other host heard the broadcast; this host\'s own users got it.\n');
    }
    if (result.delivered === 'remote' && result.lossy) {
      io.stderr.write(`netsend: some characters have no equivalent in ${result.charset ?? 'the OEM code page'}; they were sent as their closest letter or "?".\n`);
    }
    if (values.json) io.stdout.write(`${JSON.stringify({ status: 0, ...result })}\n`);
    else {
      const whom = toUsers
        ? `${result.delivered === 'remote' ? (result.recipients ?? 0) : 0} user(s) with a session on this server`
        : to === '*'
          ? 'all users of the workgroup'
          : domainTarget
            ? `the domain ${domainTarget[1] || 'of this host'}`
            : oemUpperCase(to);
      io.stdout.write(`The message was successfully sent to ${whom}.\n`);
      // through the organisation hub: it holds the message durably; the recipient's host may be away
      if (result.delivered === 'remote' && result.hub === 'stored') io.stdout.write('The hub delivered it: the recipient\'s host has stored it.\n');
      if (result.delivered === 'remote' && result.hub === 'queued') io.stdout.write('It waits at the hub (queued) until the recipient\'s host takes it.\n');
      if (result.delivered === 'remote' && result.hub === 'outbox') {
        io.stdout.write('The hub has not taken it yet (away, busy, or electing a leader): it waits in this host\'s outbox (`netsend hub status`) and goes as soon as the hub takes it.\n');
      }
      const ask = receiptCommand(result);
      if (ask !== null && !values.wait) io.stdout.write(`Its id is ${ask.id}: \`${ask.command}\` tells what becomes of it.\n`);
    }
    if (values.wait) exit = await waitForAcknowledgement(client, result, waitSeconds, io, values.json === true);
  });
  return sent === EXIT.ok ? exit : sent;
}

/** Where the message's receipt is asked: its id, and the host that holds it unless this one does; null when the legacy wire carried it (no receipts). */
function receiptOf(result: SendResult): { message: number; host?: string } | null {
  if (result.delivered === 'local') return { message: result.id };
  return result.receipt === undefined ? null : { message: result.receipt.message, host: result.receipt.host };
}

/** The message's id and the command that asks for its receipt. */
function receiptCommand(result: SendResult): { id: number; command: string } | null {
  const handle = receiptOf(result);
  return handle === null ? null : { id: handle.message, command: `netsend receipt ${handle.message}${handle.host === undefined ? '' : ` --at ${handle.host}`}` };
}

/**
 * Polls the message's receipt until someone acknowledges it, it expires, or `seconds` pass (exit
 * 3); the last poll is at the deadline, so an acknowledgement in the last moment counts.
 */
export async function waitForAcknowledgement(client: Pick<Client, 'receipt'>, result: SendResult, seconds: number, io: CliIo, json: boolean): Promise<number> {
  const handle = receiptOf(result);
  if (handle === null) {
    io.stderr.write('netsend: the legacy wire carries no receipts; the message was delivered, but its acknowledgement cannot be awaited.\n');
    return EXIT.notAcknowledged;
  }
  const deadline = Date.now() + seconds * 1000;
  let receipt: Receipt;
  for (let delay = 100; ; delay = Math.min(delay * 2, 1000)) {
    receipt = await client.receipt(handle.message, handle.host);
    if (receipt.state === 'acknowledged' || receipt.state === 'expired' || receipt.state === 'refused' || Date.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, Math.min(delay, Math.max(0, deadline - Date.now()))));
  }
  if (json) io.stdout.write(`${JSON.stringify({ receipt })}\n`);
  if (receipt.state === 'acknowledged') {
    if (!json) io.stdout.write(`Acknowledged${receipt.acknowledgedBy ? ` by ${printableName(receipt.acknowledgedBy)}` : ''} on ${receipt.acknowledgedOn ?? '?'} at ${receipt.at === null ? '?' : localTime(receipt.at)}.\n`);
    return EXIT.ok;
  }
  if (!json && receipt.state === 'refused') io.stderr.write(`netsend: message ${handle.message} was refused by its recipient's host: ${printableName(receipt.refusal?.message ?? '')}\n`);
  else if (!json) io.stderr.write(`netsend: not acknowledged within ${seconds} s (message ${handle.message} is ${receipt.state}); \`${receiptCommand(result)?.command}\` asks again.\n`);
  return EXIT.notAcknowledged;
}
