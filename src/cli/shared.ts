/** What the netsend commands share: their common options, the daemon connection, small helpers. */
import type { ParseArgsConfig } from 'node:util';
import { resolveDataDir } from '../config/paths.js';
import { connect, connectRemote } from '../lib/client.js';
import { classicDateTime } from '../messenger/message.js';
import { EXIT, UsageError, type CliClient, type CliIo } from './io.js';

/** One `netsend` command: the word that names it (and other spellings), and what runs it. */
export interface Command {
  readonly name: string;
  readonly aliases?: readonly string[];
  /** Resolves to the exit code; throws UsageError, parseArgs errors or NetApiError for runNetsend to report. */
  readonly run: (args: string[], io: CliIo) => Promise<number>;
}

export const common = {
  'data-dir': { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
  server: { type: 'string' },
  user: { type: 'string' },
  token: { type: 'string' },
  'host-key': { type: 'boolean', default: false },
} as const satisfies ParseArgsConfig['options'];

export type CommonValues = {
  'data-dir'?: string | undefined;
  json?: boolean | undefined;
  server?: string | undefined;
  user?: string | undefined;
  token?: string | undefined;
  'host-key'?: boolean | undefined;
};

/** Opens the daemon (this host's, or --server's), runs `work`, closes it; resolves to the exit code. */
export async function withClient(values: CommonValues, io: CliIo, work: (client: CliClient) => Promise<void>): Promise<number> {
  const dataDir = resolveDataDir(values['data-dir'], io.env);
  let client: CliClient;
  if (values.server !== undefined) {
    const token = values.token ?? io.env.NETSEND_TOKEN;
    const account = values.user ?? io.env.NETSEND_USER;
    let password = io.env.NETSEND_PASSWORD;
    const hostKey = values['host-key'] === true && token === undefined && account === undefined;
    if (token === undefined && account !== undefined && password === undefined && io.stdin.isTTY) {
      password = await promptPassword(io, `Password for ${account} on ${values.server}: `);
    }
    client = await (io.connectRemote ?? connectRemote)({
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
    client = await (io.connect ?? connect)({ dataDir });
  }
  try {
    await work(client);
    return EXIT.ok;
  } finally {
    await client.close();
  }
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

/**
 * The command line's output conventions (README, "Output"): people read local time in the
 * classic form, programs read --json with ISO 8601 times; an empty list says so, as NET did.
 */
export const NO_ENTRIES = 'There are no entries in the list.\n';

/** An ISO time or ms since the epoch, as people read it here: local time, `11/25/2026 10:31:05 AM`. */
export const localTime = (at: string | number): string => classicDateTime(new Date(at));

/** node:util parseArgs throws TypeErrors with ERR_PARSE_ARGS_* codes: a wrong command line, not a failure. */
export function isParseArgsError(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS');
}
