import { parseArgs } from 'node:util';
import { UsageError, readAll, type CliIo } from '../io.js';
import { NO_ENTRIES, common, localTime, withClient, type Command } from '../shared.js';
import { printUsage } from '../usage.js';

/** `netsend user …`: netsend's accounts for remote callers, their passwords, tokens and host keys. */
export const command: Command = { name: 'user', run };

const USER_ACTIONS = ['list', 'add', 'delete', 'password', 'token', 'groups', 'key', 'tokens', 'revoke'];

async function run(args: string[], io: CliIo): Promise<number> {
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
  if (values.help) return printUsage(io);
  const [action = 'list', account, ...extra] = positionals;
  const keyArg = action === 'key' || action === 'revoke' ? extra.shift() : undefined;
  if (extra.length > 0) throw new UsageError(`unexpected "${extra.join(' ')}"`);
  if (action === 'revoke' && (keyArg === undefined) === !values.all) {
    throw new UsageError('netsend user revoke NAME ID|TOKEN|SHA256:…  or  netsend user revoke NAME --all (ids: netsend user tokens NAME)');
  }
  if (!USER_ACTIONS.includes(action)) throw new UsageError(`unknown user action "${action}"`);
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
      case 'list': {
        const users = await client.users.list();
        if (!values.json) {
          if (users.length === 0) io.stdout.write(NO_ENTRIES);
          for (const u of users) {
            io.stdout.write(`${u.name}  groups: ${u.groups.join(', ') || '-'}  password: ${u.hasPassword ? 'yes' : 'no'}  tokens: ${u.tokens}\n`);
          }
          return;
        }
        result = users;
        break;
      }
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
          for (const c of credentials) io.stdout.write(`${c.id}  ${c.kind.padEnd(8)}  ${localTime(c.createdAt)}${c.hostKey === null ? '' : `  ${c.hostKey}`}\n`);
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
