import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { dataDirPaths, resolveDataDir } from '../../config/paths.js';
import { NetApiError } from '../../messenger/errors.js';
import { EXIT, UsageError, type CliIo } from '../io.js';
import { common, withClient, type Command } from '../shared.js';
import { printUsage } from '../usage.js';

/** `netsend host key | trust`: this host's key, or pinning another host's key in known-hosts. */
export const command: Command = { name: 'host', run };

async function run(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: common, strict: true, allowPositionals: true });
  if (values.help) return printUsage(io);
  const [action, endpoint, fingerprint, ...extra] = positionals;
  if (action === 'key' && endpoint === undefined) {
    return withClient(values, io, async (client) => {
      const status = await client.status();
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
