import { EXIT, type CliIo } from './io.js';

export const USAGE = `usage: netsend <command> [options]

  netsend serve [--data-dir DIR] [--config FILE] [--<setting> VALUE …]
                                    run the Messenger service (settings: netsend help config)
  netsend send {NAME | * | /domain[:NAME] | /users} [--from NAME] [--host IP[:PORT]]
               [--priority low|normal|high|urgent|1-5|min|default|max] [--title TITLE] [--ttl SECONDS]
               [--wait [--time SECONDS]] [TEXT …]
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
  netsend status [--json]           the daemon's listeners, aliases and hub
  netsend hub status [--json]       the organisation hub: connection, server, outbox, receipts owed, registry, names
  netsend hub provision HOST … [--realm R] [--out DIR] [--servers URLS] | setup --servers URLS --credentials FILE
           | forget HOST --servers URLS --credentials FILE
                                    the administrator's: nats-server config and per-host credentials; stream and
                                    bucket; a host gone for good taken out of the registry
  netsend help [config]
  netsend --version

Every command takes --data-dir DIR (or NETSEND_DATA_DIR) and --json. send, name, user, group and
audit take --server HOST[:PORT] to run on another host's daemon over the secure channel, with
--user NAME (password from NETSEND_PASSWORD, or asked on a terminal), --token (NETSEND_TOKEN), or
--host-key (this machine's key, bound to an account there with "netsend user key").`;

/**
 * The usage of one command: its lines of USAGE (a line "  netsend WORD …" and the indented lines
 * under it, up to the next command), or USAGE's first line for a word it does not know.
 */
export function usageOf(word: string | undefined): string {
  const lines = USAGE.split('\n');
  const block: string[] = [];
  for (const line of lines) {
    const starts = /^ {2}netsend (\S+)/.exec(line);
    if (starts !== null) {
      if (block.length > 0 && starts[1] !== word) break;
      if (starts[1] === word) block.push(line);
    } else if (block.length > 0 && /^ {3,}\S/.test(line)) block.push(line);
    else if (block.length > 0) break;
  }
  return block.length === 0 ? (lines[0] as string) : `usage:\n${block.join('\n')}`;
}

/** `netsend <command> --help`: the whole usage, on stdout, exit 0. */
export function printUsage(io: CliIo): number {
  io.stdout.write(`${USAGE}\n`);
  return EXIT.ok;
}
