import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError, loadConfig } from '../config/load.js';
import { resolveDataDir } from '../config/paths.js';
import { SETTINGS, flagName, type SettingName } from '../config/settings.js';
import { ConfSyntaxError } from '../config/smbconf.js';
import { Daemon } from '../daemon/daemon.js';
import { connect, type Client } from '../lib/client.js';
import { classicHeader, printableText, type MessageJson } from '../messenger/message.js';
import { EXIT, UsageError, readAll, type CliIo } from './io.js';
import { reportFailure } from './output.js';

const USAGE = `usage: netsend <command> [options]

  netsend serve [--data-dir DIR] [--config FILE] [--<setting> VALUE …]
                                    run the Messenger service (settings: netsend help config)
  netsend send {NAME | * | /domain[:NAME] | /users} [--from NAME] [--host IP[:PORT]] [TEXT …]
                                    NET SEND: the text from the arguments, or standard input
  netsend name [NAME [/add | /delete]]  (also --add, --delete)
                                    NET NAME: list, add or delete this host's message aliases
  netsend inbox [--json] [--limit N]
                                    received messages, newest last
  netsend help [config]

Every command takes --data-dir DIR (or NETSEND_DATA_DIR); send, name and inbox take --json.`;

const common = {
  'data-dir': { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies ParseArgsConfig['options'];

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
  const log = (line: string) => io.stderr.write(`netsend: ${line}\n`);
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
    options: { ...common, from: { type: 'string' }, host: { type: 'string' } },
    strict: true,
    allowPositionals: true,
  });
  if (values.help) return help(io);
  const [to, ...words] = positionals;
  if (to === undefined) throw new UsageError('send needs a recipient: netsend send NAME [TEXT …]');
  const domainTarget = /^\/domain(?::(.*))?$/i.exec(to);
  const toUsers = /^\/users$/i.test(to);
  let text: string;
  if (words.length > 0) {
    text = words.join(' ');
  } else {
    if (io.stdin.isTTY) io.stderr.write('Type your message, ending it with a Control-D\n');
    text = (await readAll(io.stdin, MAX_STDIN_BYTES)).replace(/\r?\n$/, '');
  }
  return withClient(values, io, async (client) => {
    const from = values.from === undefined ? {} : { from: values.from };
    const result = toUsers
      ? await client.sendToUsers({ text, ...from })
      : to === '*' || domainTarget !== null
        ? await client.broadcast({ text, ...from, domain: domainTarget?.[1] || null })
        : await client.send({ to, text, ...from, ...(values.host === undefined ? {} : { host: values.host }) });
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
            : to.toUpperCase();
      io.stdout.write(`The message was successfully sent to ${whom}.\n`);
    }
  });
}

async function name(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { ...common, add: { type: 'boolean', default: false }, delete: { type: 'boolean', default: false } },
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
  return withClient(values, io, async (client) => {
    // Page through the whole inbox, keeping only the newest `limit` messages.
    let shown: MessageJson[] = [];
    for (let afterId = 0; ; ) {
      const page = await client.inbox.list({ afterId, limit: 1000 });
      if (page.length === 0) break;
      shown = shown.concat(page);
      if (shown.length > limit) shown = shown.slice(-limit);
      afterId = (page.at(-1) as MessageJson).id;
    }
    for (const message of shown) {
      if (values.json) io.stdout.write(`${JSON.stringify(message)}\n`);
      else io.stdout.write(`${classicHeader({ ...message, receivedAt: new Date(message.receivedAt) })}\n\n${printableText(message.text)}\n\n`);
    }
  });
}

async function withClient(values: { 'data-dir'?: string | undefined; json?: boolean | undefined }, io: CliIo, work: (client: Client) => Promise<void>): Promise<number> {
  const client = await connect({ dataDir: resolveDataDir(values['data-dir'], io.env) });
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
