import { parseArgs } from 'node:util';
import { aliasProblem } from '../../messenger/index.js';
import { realmProblem } from '../../hub/subject.js';
import type { ResultOf } from '../../lib/client.js';
import { EXIT, UsageError, type CliIo } from '../io.js';
import { common, withClient, type Command } from '../shared.js';
import { printUsage } from '../usage.js';

/**
 * `netsend hub status`: the organisation hub as this host sees it. `hub provision`, `hub setup`
 * and `hub forget` are the administrator's (docs/hub.md): they need no daemon.
 */
export const command: Command = { name: 'hub', run };

const USAGE =
  'netsend hub status [--json] | provision HOST … [--realm R] [--out DIR] [--servers URLS] | setup --servers URLS --credentials FILE [--realm R] [--tls-ca FILE] [--replicas N] | forget HOST --servers URLS --credentials FILE [--realm R] [--tls-ca FILE]';

const adminOptions = {
  realm: { type: 'string', default: 'netsend' },
  out: { type: 'string' },
  servers: { type: 'string', default: '' },
  credentials: { type: 'string', default: '' },
  'tls-ca': { type: 'string', default: '' },
  replicas: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

async function run(args: string[], io: CliIo): Promise<number> {
  if (args[0] === 'provision' || args[0] === 'setup' || args[0] === 'forget') return admin(args[0], args.slice(1), io);
  const { values, positionals } = parseArgs({ args, options: common, strict: true, allowPositionals: true });
  if (values.help) return printUsage(io);
  if (positionals.length !== 1 || positionals[0] !== 'status') throw new UsageError(USAGE);
  return withClient(values, io, async (client) => {
    const status = await client.call('hub.status', {});
    io.stdout.write(values.json ? `${JSON.stringify(status)}\n` : describe(status));
  });
}

async function admin(verb: 'provision' | 'setup' | 'forget', args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: adminOptions, strict: true, allowPositionals: true });
  if (values.help) return printUsage(io);
  const realmIssue = realmProblem(values.realm);
  if (realmIssue !== null) throw new UsageError(`--realm ${realmIssue}`);
  const servers = values.servers.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (verb === 'provision') {
    if (positionals.length === 0) throw new UsageError(USAGE);
    const hosts = positionals.map(computerName);
    // the NATS libraries load only for the hub's own commands, not for every netsend command
    const { provision } = await import('../../hub/provision.js');
    const result = await provision({ hosts, realm: values.realm, outDir: values.out ?? `netsend-hub-${values.realm}`, servers });
    if (values.json) io.stdout.write(`${JSON.stringify(result)}\n`);
    else {
      const kept = (reused: boolean) => (reused ? ' (kept)' : '');
      io.stdout.write(
        [
          `nats-server config: ${result.configFile} (include it in every node's config)`,
          `admin credentials:  ${result.admin.file}${kept(result.admin.reused)} — run "netsend hub setup" with it once`,
          ...result.hosts.map((h) => `${h.name}: ${h.file}${kept(h.reused)} (${h.publicKey})`),
          `what to do next:    ${result.readmeFile}`,
          '',
        ].join('\n'),
      );
    }
    return EXIT.ok;
  }
  if (servers.length === 0 || values.credentials === '') throw new UsageError(USAGE);
  const hub = { servers, credentialsFile: values.credentials, tlsCaFile: values['tls-ca'], realm: values.realm };
  if (verb === 'forget') {
    if (positionals.length !== 1) throw new UsageError(USAGE);
    const host = computerName(positionals[0] ?? '');
    const { forgetHost } = await import('../../hub/provision.js');
    const purged = await forgetHost({ ...hub, host });
    io.stdout.write(values.json ? `${JSON.stringify({ purged })}\n` : `realm ${values.realm}: ${host}'s records purged (${purged.join(', ')})\n`);
    return EXIT.ok;
  }
  if (positionals.length !== 0) throw new UsageError(USAGE);
  // as the daemon chooses: R3 (what survives a node's loss) needs three servers
  const replicas = values.replicas === undefined ? (servers.length >= 3 ? 3 : 1) : Number(values.replicas);
  if (![1, 3, 5].includes(replicas)) throw new UsageError('--replicas is 1, 3 or 5');
  const { setupRealm } = await import('../../hub/provision.js');
  const made = await setupRealm({ ...hub, replicas });
  io.stdout.write(values.json ? `${JSON.stringify(made)}\n` : `realm ${values.realm}: stream ${made.stream} (R${made.replicas}) and bucket ${made.bucket} are on the hub\n`);
  return EXIT.ok;
}

/** A host as the hub knows it: its computer name upper-cased, as its daemon writes it. @throws UsageError for what is not one */
function computerName(host: string): string {
  if (aliasProblem(host) !== null) throw new UsageError(`"${host}" is not a NetBIOS computer name (1-15 characters, none of \\/:*?"<>|)`);
  // the code page of a non-ASCII name is the host's, so such a name is given as that host writes it
  if (/[^\x00-\x7f]/.test(host) && host !== host.toUpperCase()) throw new UsageError(`give "${host}" upper-cased, as that host's daemon writes its computer name`);
  return host.toUpperCase();
}

function describe(status: ResultOf<'hub.status'>): string {
  if (status.state === 'off') return 'hub: off (no "hub servers" set: this host is serverless on its LAN)\n';
  const lines = [
    `hub: ${status.state}${status.server === null ? '' : ` to ${status.server}`}, realm ${status.realm}${status.joined ? '' : ' (not joined yet)'}`,
    `outbox: ${status.pending} waiting for the hub`,
    `receipts owed to senders: ${status.owed}`,
    `registry: ${status.registry} names`,
    `this host holds: ${status.claims.length === 0 ? '(none yet)' : status.claims.join(', ')}`,
  ];
  if (status.conflicts.length > 0) lines.push(`held by other hosts: ${status.conflicts.join(', ')}`);
  if (status.error !== null) lines.push(`last problem: ${status.error}`);
  return `${lines.join('\n')}\n`;
}
