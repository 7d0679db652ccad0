import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, loadConfig } from '../config/load.js';
import { resolveDataDir } from '../config/paths.js';
import { SETTINGS, flagName, type SettingName } from '../config/settings.js';
import { ConfSyntaxError } from '../config/smbconf.js';
import { Daemon } from '../daemon/daemon.js';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { dataDirPaths } from '../config/paths.js';
import { connect, connectRemote, type Client } from '../lib/client.js';
import { MAX_INBOX_PAGE } from '../control/handlers.js';
import { NetApiError } from '../messenger/errors.js';
import { oemUpperCase } from '../messenger/names.js';
import type { Receipt } from '../messenger/events.js';
import type { SendResult } from '../messenger/messenger.js';
import { PRIORITIES, classicHeader, isPriority, printableName, printableText, priorityLevel, priorityOfLevel, type MessageJson } from '../messenger/message.js';
import { EXIT, UsageError, readAll, type CliIo } from './io.js';
import { reportFailure } from './output.js';

const USAGE = `usage: netsend <command> [options]

  netsend serve [--data-dir DIR] [--config FILE] [--<setting> VALUE …]
                                    run the Messenger service (settings: netsend help config)
  netsend send {NAME | * | /domain[:NAME] | /users} [--from NAME] [--host IP[:PORT]]
               [--priority low|normal|high|urgent|1-5|min|default|max] [--ttl SECONDS] [--wait [--time SECONDS]] [TEXT …]
                                    NET SEND: the text from the arguments, or standard input;
                                    --wait: until the recipient acknowledges (exit 3 if not in time)
  netsend ack ID …                  acknowledge received messages (OK on the pop-up)
  netsend receipt ID [--at HOST:PORT]
                                    what became of a message you sent (send --json gives the id)
  netsend name [NAME [/add | /delete]]  (also --add, --delete)
                                    NET NAME: list, add or delete this host's message aliases
  netsend name NAME [--allow RULE …] [--deny RULE …] [--legacy all|subnets|none] [--clear-policy] [--policy]
                                    who may message NAME (RULE: user:X group:X host:X subnet:CIDR address:IP)
  netsend inbox [--json] [--limit N]
                                    received messages, newest last
  netsend user list | add NAME [--group G …] [--no-password] | delete NAME | password NAME
             | token NAME | groups NAME [--add G …] [--remove G …] | key NAME SHA256:…
             | tokens NAME | revoke NAME ID|TOKEN|SHA256:… | revoke NAME --all
                                    netsend's accounts for remote callers (passwords on stdin)
  netsend group list | add GROUP USER | remove GROUP USER
  netsend audit [--json] [--limit N]
                                    remote calls and refused messages
  netsend host key | trust HOST:PORT|NAME FINGERPRINT
                                    this host's key; pin another host's key in known-hosts
  netsend web url                   a one-time login URL for the web inbox (local administrators)
  netsend help [config]
  netsend --version

Every command takes --data-dir DIR (or NETSEND_DATA_DIR) and --json. send, name, user, group and
audit take --server HOST[:PORT] to run on another host's daemon over the secure channel, with
--user NAME (password from NETSEND_PASSWORD, or asked on a terminal), --token (NETSEND_TOKEN), or
--host-key (this machine's key, bound to an account there with "netsend user key").`;

/** The version in package.json, beside dist/ in the checkout and in an installed package alike. */
function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof manifest.version === 'string' ? manifest.version : 'unknown';
}

const common = {
  'data-dir': { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
  server: { type: 'string' },
  user: { type: 'string' },
  token: { type: 'string' },
  'host-key': { type: 'boolean', default: false },
} as const satisfies ParseArgsConfig['options'];

type CommonValues = {
  'data-dir'?: string | undefined;
  json?: boolean | undefined;
  server?: string | undefined;
  user?: string | undefined;
  token?: string | undefined;
  'host-key'?: boolean | undefined;
};

/** Runs `netsend …` and resolves to the exit code. */
export async function runNetsend(argv: readonly string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'serve':
        return await serve(rest, io);
      case 'send':
        return await send(rest, io);
      case 'name':
        return await name(rest, io);
      case 'inbox':
        return await inbox(rest, io);
      case 'ack':
        return await ack(rest, io);
      case 'receipt':
        return await receipt(rest, io);
      case 'user':
        return await user(rest, io);
      case 'group':
        return await group(rest, io);
      case 'audit':
        return await audit(rest, io);
      case 'host':
        return await host(rest, io);
      case 'web':
        return await web(rest, io);
      case '--version':
      case 'version':
        io.stdout.write(`netsend ${packageVersion()}\n`);
        return EXIT.ok;
      case 'help':
      case '--help':
      case '-h':
        io.stdout.write(`${rest[0] === 'config' ? configHelp() : USAGE}\n`);
        return EXIT.ok;
      default:
        throw new UsageError(command === undefined ? 'a command is needed' : `unknown command "${command}"`);
    }
  } catch (error) {
    if (error instanceof UsageError || isParseArgsError(error)) {
      io.stderr.write(`netsend: ${(error as Error).message}\n${USAGE.split('\n')[0]}\n`);
      return EXIT.usage;
    }
    if (error instanceof ConfigError || error instanceof ConfSyntaxError) {
      io.stderr.write(`netsend: ${error.message}\n`);
      return EXIT.usage;
    }
    return reportFailure(io, error, argv.includes('--json'));
  }
}

async function serve(args: string[], io: CliIo): Promise<number> {
  const settingFlags = Object.fromEntries(
    (Object.keys(SETTINGS) as SettingName[]).map((name) => [flagName(name), { type: 'string' as const }]),
  );
  const { values } = parseArgs({
    args,
    options: { ...common, config: { type: 'string' }, ...settingFlags },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return help(io);
  const flags: Partial<Record<SettingName, string>> = {};
  for (const name of Object.keys(SETTINGS) as SettingName[]) {
    const value = (values as Record<string, unknown>)[flagName(name)];
    if (typeof value === 'string') flags[name] = value;
  }
  const dataDir = resolveDataDir(values['data-dir'], io.env);
  const config = loadConfig({ dataDir, flags, env: io.env, ...(values.config === undefined ? {} : { configFile: values.config }) });
  // A log whose reader went away (EPIPE) drops its lines; an unhandled 'error' on it would end the daemon.
  let logGone = false;
  io.stderr.on('error', () => (logGone = true));
  const log = (line: string) => {
    if (!logGone) io.stderr.write(`netsend: ${line}\n`);
  };
  const daemon = await Daemon.start(config, { stdout: io.stdout, log });
  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      log(`${signal}: stopping`);
      process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
      // A second signal while draining ends the process at once.
      process.once('SIGINT', () => process.exit(130)).once('SIGTERM', () => process.exit(143));
      resolve();
    };
    process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  });
  await daemon.stop();
  return EXIT.ok;
}

/** Largest message read from standard input; the daemon applies its own, smaller limit. */
const MAX_STDIN_BYTES = 1024 * 1024;

async function send(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      ...common,
      from: { type: 'string' },
      host: { type: 'string' },
      priority: { type: 'string' },
      ttl: { type: 'string' },
      wait: { type: 'boolean', default: false },
      time: { type: 'string' },
    },
    strict: true,
    allowPositionals: true,
  });
  if (values.help) return help(io);
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
  if (values.wait && (to === '*' || domainTargetOf(to) !== null || /^\/users$/i.test(to))) throw new UsageError('--wait is for one recipient, not a broadcast');
  const domainTarget = /^\/domain(?::(.*))?$/i.exec(to);
  const toUsers = /^\/users$/i.test(to);
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
            ...(values.host === undefined ? {} : { host: values.host }),
            ...(level === null ? {} : { priority: isPriority(values.priority) ? values.priority : priorityOfLevel(level) }),
            ...(ttl === undefined ? {} : { ttl }),
          });
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
    }
    if (values.wait) exit = await waitForAcknowledgement(client, result, waitSeconds, io, values.json === true);
  });
  return sent === EXIT.ok ? exit : sent;
}

/**
 * Polls the message's receipt until someone acknowledges it, it expires, or `seconds` pass (exit
 * 3); the last poll is at the deadline, so an acknowledgement in the last moment counts.
 */
export async function waitForAcknowledgement(client: Pick<Client, 'receipt'>, result: SendResult, seconds: number, io: CliIo, json: boolean): Promise<number> {
  const handle =
    result.delivered === 'local' ? { message: result.id } : result.receipt !== undefined ? { message: result.receipt.message, host: result.receipt.host } : null;
  if (handle === null) {
    io.stderr.write('netsend: the legacy wire carries no receipts; the message was delivered, but its acknowledgement cannot be awaited.\n');
    return EXIT.notAcknowledged;
  }
  const deadline = Date.now() + seconds * 1000;
  let receipt: Receipt;
  for (let delay = 100; ; delay = Math.min(delay * 2, 1000)) {
    receipt = await client.receipt(handle.message, handle.host);
    if (receipt.state === 'acknowledged' || receipt.state === 'expired' || Date.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, Math.min(delay, Math.max(0, deadline - Date.now()))));
  }
  if (json) io.stdout.write(`${JSON.stringify({ receipt })}\n`);
  if (receipt.state === 'acknowledged') {
    if (!json) io.stdout.write(`Acknowledged${receipt.acknowledgedBy ? ` by ${printableName(receipt.acknowledgedBy)}` : ''} on ${receipt.acknowledgedOn ?? '?'} at ${receipt.at ?? '?'}.\n`);
    return EXIT.ok;
  }
  if (!json) io.stderr.write(`netsend: not acknowledged within ${seconds} s (the message is ${receipt.state}).\n`);
  return EXIT.notAcknowledged;
}

async function name(args: string[], io: CliIo): Promise<number> {
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
  if (values.help) return help(io);
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
        const current = values['clear-policy'] ? { allow: [], deny: [] } : (policy as { legacy?: string; allow: string[]; deny: string[] });
        policy = await client.policies.set(alias, {
          ...(values.legacy !== undefined ? { legacy: values.legacy } : 'legacy' in current && current.legacy !== undefined ? { legacy: current.legacy } : {}),
          allow: [...current.allow, ...(values.allow ?? [])],
          deny: [...current.deny, ...(values.deny ?? [])],
        });
      }
      if (values.json) io.stdout.write(`${JSON.stringify(policy)}\n`);
      else {
        const p = policy as { legacy?: string; allow: string[]; deny: string[] };
        io.stdout.write(`${oemUpperCase(alias)}\n  legacy input: ${p.legacy ?? '(the host setting)'}\n  allow: ${p.allow.join(' ') || '(anyone)'}\n  deny: ${p.deny.join(' ') || '(no one)'}\n`);
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

async function inbox(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args, options: { ...common, limit: { type: 'string' } }, strict: true });
  if (values.help) return help(io);
  const limit = values.limit === undefined ? Infinity : Number(values.limit);
  if (!(limit === Infinity || (Number.isSafeInteger(limit) && limit > 0))) throw new UsageError('--limit takes a whole number');
  /** Writes one message, waiting while the reader is behind, so output never piles up in memory. */
  const show = async (message: MessageJson) => {
    const line = values.json
      ? `${JSON.stringify(message)}\n`
      : `${classicHeader({ from: printableName(message.from), to: printableName(message.to), receivedAt: new Date(message.receivedAt) })}\n${provenance(message)}\n${printableText(message.text)}\n\n`;
    if (!io.stdout.write(line)) await once(io.stdout, 'drain');
  };
  return withClient(values, io, async (client) => {
    // --limit N: the newest N, read newest first from the index, whatever the inbox's size
    if (limit <= MAX_INBOX_PAGE) {
      for (const message of await client.inbox.latest(limit)) await show(message);
      return;
    }
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
  });
}

async function ack(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: common, strict: true, allowPositionals: true });
  if (values.help) return help(io);
  const ids = positionals.map(Number);
  if (ids.length === 0 || !ids.every((id) => Number.isSafeInteger(id) && id > 0)) throw new UsageError('netsend ack ID … (the ids of inbox --json)');
  return withClient(values, io, async (client) => {
    for (const id of ids) {
      const receipt = await client.acknowledge(id);
      io.stdout.write(values.json ? `${JSON.stringify(receipt)}\n` : `Message ${id} acknowledged.\n`);
    }
  });
}

async function receipt(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { ...common, at: { type: 'string' } }, strict: true, allowPositionals: true });
  if (values.help) return help(io);
  const [idText, ...extra] = positionals;
  const id = Number(idText);
  if (extra.length > 0 || !Number.isSafeInteger(id) || id <= 0) throw new UsageError('netsend receipt ID [--at HOST:PORT] (the id and host that send --json printed)');
  return withClient(values, io, async (client) => {
    const result = await client.receipt(id, values.at);
    if (values.json) io.stdout.write(`${JSON.stringify(result)}\n`);
    else {
      io.stdout.write(`Message ${id}: ${result.state}${result.at ? ` at ${result.at}` : ''}${result.acknowledgedBy ? ` by ${printableName(result.acknowledgedBy)}` : ''}${result.acknowledgedOn ? ` on ${result.acknowledgedOn}` : ''}\n`);
      for (const [surface, e] of Object.entries(result.surfaces)) io.stdout.write(`  ${surface}: ${e.state}${e.by ? ` (${printableName(e.by)})` : ''} at ${e.at}\n`);
    }
  });
}

async function user(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      ...common,
      group: { type: 'string', multiple: true },
      add: { type: 'string', multiple: true },
      remove: { type: 'string', multiple: true },
      'no-password': { type: 'boolean', default: false },
      all: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: true,
  });
  if (values.help) return help(io);
  const [action = 'list', account, ...extra] = positionals;
  const keyArg = action === 'key' || action === 'revoke' ? extra.shift() : undefined;
  if (extra.length > 0) throw new UsageError(`unexpected "${extra.join(' ')}"`);
  if (action === 'revoke' && (keyArg === undefined) === !values.all) {
    throw new UsageError('netsend user revoke NAME ID|TOKEN|SHA256:…  or  netsend user revoke NAME --all (ids: netsend user tokens NAME)');
  }
  if (action !== 'list' && account === undefined) throw new UsageError(`user ${action} needs a user name`);
  const name = account as string;
  const password = async () => {
    if (io.stdin.isTTY) io.stderr.write(`Password for ${name}, then Control-D: `);
    const text = (await readAll(io.stdin, 4096)).replace(/\r?\n$/, '');
    if (text === '') throw new UsageError('the password comes on standard input, and must not be empty');
    return text;
  };
  return withClient(values, io, async (client) => {
    let result: unknown;
    switch (action) {
      case 'list':
        result = await client.users.list();
        if (!values.json) {
          for (const u of result as Array<{ name: string; groups: string[]; tokens: number; hasPassword: boolean }>) {
            io.stdout.write(`${u.name}  groups: ${u.groups.join(', ') || '-'}  password: ${u.hasPassword ? 'yes' : 'no'}  tokens: ${u.tokens}\n`);
          }
          return;
        }
        break;
      case 'add':
        result = await client.users.add(name, values['no-password'] ? null : await password(), values.group ?? []);
        break;
      case 'delete':
        result = await client.users.delete(name);
        break;
      case 'password':
        result = await client.users.setPassword(name, await password());
        break;
      case 'token': {
        const issued = await client.users.issueToken(name);
        // the token is shown once: only its hash is kept
        io.stdout.write(values.json ? `${JSON.stringify(issued)}\n` : `${issued.token}\n`);
        return;
      }
      case 'groups':
        result = await client.users.setGroups(name, { add: values.add ?? [], remove: values.remove ?? [] });
        break;
      case 'key': {
        const fingerprint = keyArg;
        if (fingerprint === undefined) throw new UsageError('netsend user key NAME SHA256:… (the other machine\'s "netsend host key")');
        result = await client.users.bindHostKey(name, fingerprint);
        break;
      }
      case 'tokens': {
        const credentials = await client.users.credentials(name);
        if (values.json) {
          io.stdout.write(`${JSON.stringify(credentials)}\n`);
        } else if (credentials.length === 0) {
          io.stdout.write(`${name} has no tokens or host keys.\n`);
        } else {
          for (const c of credentials) io.stdout.write(`${c.id}  ${c.kind.padEnd(8)}  ${c.createdAt}${c.hostKey === null ? '' : `  ${c.hostKey}`}\n`);
        }
        return;
      }
      case 'revoke': {
        const { revoked } = await client.users.revoke(name, values.all ? null : (keyArg as string));
        if (values.json) io.stdout.write(`${JSON.stringify({ user: name, revoked })}\n`);
        else if (revoked === 0) io.stdout.write(`${name} had no tokens or host keys to revoke.\n`);
        else io.stdout.write(`Revoked ${revoked} of ${name}'s tokens and host keys; ${name}'s open sessions are closed.\n`);
        return;
      }
      default:
        throw new UsageError(`unknown user action "${action}"`);
    }
    io.stdout.write(values.json ? `${JSON.stringify(result)}\n` : 'The command completed successfully.\n');
  });
}

async function group(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: common, strict: true, allowPositionals: true });
  if (values.help) return help(io);
  const [action = 'list', groupName, member, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`unexpected "${extra.join(' ')}"`);
  return withClient(values, io, async (client) => {
    if (action === 'list') {
      const users = (await client.users.list()) as Array<{ name: string; groups: string[] }>;
      const groups = new Map<string, string[]>();
      for (const u of users) for (const g of u.groups) groups.set(g, [...(groups.get(g) ?? []), u.name]);
      if (values.json) io.stdout.write(`${JSON.stringify(Object.fromEntries(groups))}\n`);
      else for (const [g, members] of [...groups].sort()) io.stdout.write(`${g}: ${members.join(', ')}\n`);
      return;
    }
    if ((action !== 'add' && action !== 'remove') || groupName === undefined || member === undefined) {
      throw new UsageError('netsend group add|remove GROUP USER');
    }
    const result = await client.users.setGroups(member, action === 'add' ? { add: [groupName] } : { remove: [groupName] });
    io.stdout.write(values.json ? `${JSON.stringify(result)}\n` : 'The command completed successfully.\n');
  });
}

async function audit(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args, options: { ...common, limit: { type: 'string' } }, strict: true });
  if (values.help) return help(io);
  const limit = values.limit === undefined ? 1000 : Number(values.limit);
  if (!Number.isSafeInteger(limit) || limit <= 0) throw new UsageError('--limit takes a whole number');
  return withClient(values, io, async (client) => {
    type Record = { id: number; at: number; event: string; principal: string; source: string | null; detail: string; status: number };
    let records: Record[] = [];
    for (let afterId = 0; ; ) {
      const page = (await client.audit.list({ afterId, limit: 1000 })) as Record[];
      if (page.length === 0) break;
      records = records.concat(page).slice(-limit);
      afterId = (page.at(-1) as Record).id;
    }
    for (const r of records) {
      io.stdout.write(
        values.json
          ? `${JSON.stringify(r)}\n`
          : `${new Date(r.at).toISOString()}  ${r.event}  ${r.principal}${r.source ? ` from ${r.source}` : ''}  ${r.detail}  status ${r.status}\n`,
      );
    }
  });
}

async function host(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: common, strict: true, allowPositionals: true });
  if (values.help) return help(io);
  const [action, endpoint, fingerprint, ...extra] = positionals;
  if (action === 'key' && endpoint === undefined) {
    return withClient(values, io, async (client) => {
      const status = (await client.status()) as { hostKey?: string; computerName: string };
      if (status.hostKey === undefined) throw new NetApiError('ERROR_NOT_SUPPORTED', 'The secure channel is off on this daemon (secure port = 0).');
      io.stdout.write(values.json ? `${JSON.stringify({ computerName: status.computerName, hostKey: status.hostKey })}\n` : `${status.computerName} ${status.hostKey}\n`);
    });
  }
  if (action !== 'trust' || endpoint === undefined || fingerprint === undefined || extra.length > 0 || !/^SHA256:[A-Za-z0-9+/]{43}$/.test(fingerprint)) {
    throw new UsageError('netsend host key | netsend host trust HOST:PORT|NAME SHA256:… (the other host\'s "netsend host key")');
  }
  const path = dataDirPaths(resolveDataDir(values['data-dir'], io.env)).knownHosts;
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await appendFile(path, `${endpoint} ${fingerprint}\n`, { mode: 0o600 });
  io.stdout.write(`${endpoint} ${fingerprint} added to ${path}\n`);
  return EXIT.ok;
}

async function web(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: common, strict: true, allowPositionals: true });
  if (values.help) return help(io);
  if (positionals.length !== 1 || positionals[0] !== 'url') throw new UsageError('netsend web url');
  if (values.server !== undefined) throw new UsageError('a web login URL is only given on this host (no --server)');
  return withClient(values, io, async (client) => {
    const { url } = await client.web.url();
    io.stdout.write(values.json ? `${JSON.stringify({ url })}\n` : `${url}\n`);
  });
}

/** A password typed on a terminal, not echoed. */
async function promptPassword(io: CliIo, prompt: string): Promise<string> {
  const stdin = io.stdin as NodeJS.ReadStream;
  io.stderr.write(prompt);
  stdin.setRawMode?.(true);
  try {
    let typed = '';
    for await (const chunk of stdin) {
      for (const ch of String(chunk)) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return typed;
        if (ch === '\u0003') throw new UsageError('interrupted');
        if (ch === '\u007f') typed = typed.slice(0, -1);
        else if (typed.length < 1024) typed += ch;
      }
    }
    return typed;
  } finally {
    stdin.setRawMode?.(false);
    io.stderr.write('\n');
  }
}

/** What the inbox knows of a message's sender: verified by a host key or the kernel, or only claimed. */
function provenance(message: MessageJson): string {
  // the daemon's own words (senderNote), so every surface says it the same way
  return message.provenance === undefined ? '' : `(${printableText(message.provenance)})\n`;
}

const domainTargetOf = (to: string) => /^\/domain(?::(.*))?$/i.exec(to);

async function withClient(values: CommonValues, io: CliIo, work: (client: Client) => Promise<void>): Promise<number> {
  const dataDir = resolveDataDir(values['data-dir'], io.env);
  let client: Client;
  if (values.server !== undefined) {
    const token = values.token ?? io.env.NETSEND_TOKEN;
    const account = values.user ?? io.env.NETSEND_USER;
    let password = io.env.NETSEND_PASSWORD;
    const hostKey = values['host-key'] === true && token === undefined && account === undefined;
    if (token === undefined && account !== undefined && password === undefined && io.stdin.isTTY) {
      password = await promptPassword(io, `Password for ${account} on ${values.server}: `);
    }
    client = await connectRemote({
      server: values.server,
      dataDir,
      ...(token !== undefined ? { token } : {}),
      ...(account !== undefined ? { user: account } : {}),
      ...(password !== undefined ? { password } : {}),
      hostKey,
      onPinned: (endpoint, fingerprint) => io.stderr.write(`netsend: first connection to ${endpoint}; its host key ${fingerprint} is now pinned.\n`),
    });
  } else {
    if (values.user !== undefined || values.token !== undefined || values['host-key']) throw new UsageError('--user, --token and --host-key go with --server');
    client = await connect({ dataDir });
  }
  try {
    await work(client);
    return EXIT.ok;
  } finally {
    await client.close();
  }
}

function help(io: CliIo): number {
  io.stdout.write(`${USAGE}\n`);
  return EXIT.ok;
}

function configHelp(): string {
  const lines = ['Settings (flag > NETSEND_* environment > <data dir>/netsend.conf [global] > default):', ''];
  for (const [name, spec] of Object.entries(SETTINGS)) {
    const value = spec.default();
    lines.push(`  ${spec.key}  (--${flagName(name as SettingName)})  default: ${Array.isArray(value) ? value.join(' ') : String(value)}`);
    lines.push(`      ${spec.why}`);
  }
  return lines.join('\n');
}

function isParseArgsError(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}
