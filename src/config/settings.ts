import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { accountNameProblem } from '../messenger/account-names.js';
import { aliasProblem, computerNameFromHostname } from '../messenger/names.js';
import { scopeProblem } from '../messenger/netbios-names.js';
import { DATAGRAM_PORT } from '../protocols/mailslot/index.js';
import { NBNS_PORT } from '../protocols/nbns/index.js';
import { NBSS_PORT } from '../protocols/nbss/index.js';
import { SECURE_PORT } from '../protocols/secure/index.js';
import { oemCharsetKnown } from '../protocols/smb1/oem.js';
import { LEGACY_INPUT, NAME_SOURCES, SECURE_TRUST, SERVER_ROLES } from './choices.js';
import { splitCommandLine } from './command-line.js';
import { interfaceSpecProblem } from './interfaces.js';
import { HUB_SETTINGS } from './hub-settings.js';
import { setting, type SettingValue } from './kinds.js';

/**
 * Every setting, declared once. The flag (`--netbios-name`), the environment variable
 * (`NETSEND_NETBIOS_NAME`) and the file key (`netbios name`) all derive from `key`.
 */
export const SETTINGS = {
  netbiosName: setting({
    key: 'netbios name',
    kind: 'string',
    default: () => computerNameFromHostname(hostname()),
    why: "The host name's first label, upper-cased and cut to 15 characters, as Samba and Windows derive it.",
    check: (v) => (aliasProblem(v) === null ? null : 'is not a valid NetBIOS name (1-15 characters, none of \\/:*?"<>|)'),
  }),
  workgroup: setting({
    key: 'workgroup',
    kind: 'string',
    default: () => 'WORKGROUP',
    why: "Windows' and Samba's default workgroup, so a fresh host joins the usual one.",
    check: (v) => (aliasProblem(v) === null ? null : 'is not a valid NetBIOS name'),
  }),
  messageCommand: setting({
    key: 'message command',
    kind: 'string',
    default: () => '',
    why: 'Off: running programs on received messages is for the administrator to decide.',
    check: (v) => {
      try {
        splitCommandLine(v);
        return null;
      } catch (error) {
        return (error as Error).message;
      }
    },
  }),
  messageCommandTimeout: setting({
    key: 'message command timeout',
    kind: 'integer',
    default: () => 30,
    min: 1,
    max: 3600,
    why: 'Seconds before a message command is killed: long enough for a notifier, short enough that a hung one does not pile up.',
  }),
  interfaces: setting({
    key: 'interfaces',
    kind: 'list',
    default: () => ['lo'],
    why: 'Loopback only: a fresh start never talks to the LAN until the administrator opens it (e.g. "eth0" or "192.168.1.0/24").',
    check: (v) => v.map(interfaceSpecProblem).find((p) => p !== null) ?? (v.length === 0 ? 'is empty' : null),
  }),
  bindInterfacesOnly: setting({
    key: 'bind interfaces only',
    kind: 'boolean',
    default: () => true,
    why: 'Listen only on the addresses of "interfaces", never on the wildcard address, as Samba does when set.',
  }),
  dosCharset: setting({
    key: 'dos charset',
    kind: 'string',
    default: () => 'CP850',
    why: "Samba's default OEM code page for names and message text on the legacy wire.",
    check: (v) => (oemCharsetKnown(v) ? null : 'is not a code page netsend knows'),
  }),
  netbiosScope: setting({
    key: 'netbios scope',
    kind: 'string',
    default: () => '',
    why: "None, as Samba's default: a scope (RFC 1001 §5.2) makes separate NetBIOS networks on one LAN, and only hosts with the same scope see each other's names.",
    check: scopeProblem,
  }),
  maxAliases: setting({
    key: 'max aliases',
    kind: 'integer',
    default: () => 64,
    min: 0,
    max: 1000,
    why: 'Added aliases per host: far more than people use, and it bounds the name table and its network registrations.',
  }),
  maxMessageSize: setting({
    key: 'max message size',
    kind: 'integer',
    default: () => 64 * 1024,
    min: 2,
    max: 1024 * 1024,
    why: 'Bytes of UTF-16 text (buflen): 32,767 characters, far past any pop-up, and small enough that a sender cannot fill the disk fast.',
  }),
  smbPorts: setting({
    key: 'smb ports',
    kind: 'ports',
    default: () => [NBSS_PORT],
    why: 'The NetBIOS session service port Windows and smbclient -M send messages to; 0 turns the listener off.',
  }),
  nbtPort: setting({
    key: 'nbt port',
    kind: 'ports',
    default: () => [NBNS_PORT],
    why: 'The NetBIOS name service port (UDP) where nmblookup and Windows look names up; 0 turns the name service off.',
  }),
  dgramPort: setting({
    key: 'dgram port',
    kind: 'ports',
    default: () => [DATAGRAM_PORT],
    why: 'The NetBIOS datagram port (UDP) of broadcast messages (NET SEND *, \\MAILSLOT\\MESSNGR); 0 turns it off.',
  }),
  winsServer: setting({
    key: 'wins server',
    kind: 'string',
    default: () => '',
    why: 'None: names are claimed and found by broadcast (B-node) until the administrator names a WINS server (an IPv4 address).',
    check: (v) => (v === '' || isIP(v) === 4 ? null : 'is not an IPv4 address'),
  }),
  nameResolveOrder: setting({
    key: 'name resolve order',
    kind: 'enum list',
    values: NAME_SOURCES,
    default: () => ['lmhosts', 'wins', 'bcast'],
    why: "Samba's order without DNS: the administrator's table first, then the WINS server, then broadcast; with \"hub servers\" set, then the hub.",
  }),
  ...HUB_SETTINGS,
  nameCacheTimeout: setting({
    key: 'name cache timeout',
    kind: 'integer',
    default: () => 660,
    min: 0,
    max: 86_400,
    why: "Samba's default: seconds a resolved name is reused before it is looked up again; 0 turns the cache off.",
  }),
  sourceMessageRate: setting({
    key: 'source message rate',
    kind: 'integer',
    default: () => 5,
    min: 1,
    max: 100_000,
    why: 'Messages per second one network address may deliver (SMB and mailslot) once its burst is spent: more than a person types, less than a spammer wants.',
  }),
  sourceMessageBurst: setting({
    key: 'source message burst',
    kind: 'integer',
    default: () => 20,
    min: 1,
    max: 1_000_000,
    why: 'Messages one network address may deliver at once before its rate applies: a burst of alerts from a monitoring host gets through.',
  }),
  globalMessageRate: setting({
    key: 'global message rate',
    kind: 'integer',
    default: () => 500,
    min: 1,
    max: 1_000_000,
    why: 'Messages per second from the network in all (after the per-source limits), with a burst of five times it: a flood from many addresses at once cannot fill the disk.',
  }),
  sourceQueryRate: setting({
    key: 'source query rate',
    kind: 'integer',
    default: () => 50,
    min: 1,
    max: 1_000_000,
    why: 'Name service answers per second to one address once its burst is spent: plenty for resolving names, too few to make this host a reflector for spoofed queries.',
  }),
  sourceQueryBurst: setting({
    key: 'source query burst',
    kind: 'integer',
    default: () => 200,
    min: 1,
    max: 1_000_000,
    why: 'Name service answers one address may get at once (a host resolving many names at start).',
  }),
  securePort: setting({
    key: 'secure port',
    kind: 'ports',
    default: () => [SECURE_PORT],
    why: "netsend's own TLS 1.3 channel (no IANA port; 4139 echoes 139): remote calls and verified host-to-host messages. 0 turns it off, both ways.",
  }),
  secureTrust: setting({
    key: 'secure trust',
    kind: 'enum',
    values: SECURE_TRUST,
    default: () => 'tofu',
    why: 'Pin a host key the first time it is seen, as SSH does: no setup, and a changed key is refused. "known" takes only keys the administrator listed in known-hosts; "ca" takes keys a site CA signed.',
  }),
  secureCaFile: setting({
    key: 'secure ca file',
    kind: 'string',
    default: () => '',
    why: 'No site CA: host keys are pinned instead. A PEM file here is the CA that "secure trust = ca" checks host certificates against.',
  }),
  secureCertFile: setting({
    key: 'secure cert file',
    kind: 'string',
    default: () => '',
    why: "None: the host's own Ed25519 key and self-signed certificate, made at first start in the data dir. A PEM file here (a certificate the site CA signed) replaces it.",
  }),
  secureKeyFile: setting({
    key: 'secure key file',
    kind: 'string',
    default: () => '',
    why: 'The private key of "secure cert file" (PEM); empty when the certificate file holds the key too.',
  }),
  httpPort: setting({
    key: 'http port',
    kind: 'integer',
    default: () => 8139,
    min: 0,
    max: 65535,
    why: 'The web inbox and its JSON API (8139 echoes 139, beside the secure channel\'s 4139); 0 turns it off.',
  }),
  httpBind: setting({
    key: 'http bind',
    kind: 'string',
    default: () => '127.0.0.1',
    why: 'Loopback: the web inbox is plain HTTP, for this machine only, until the administrator puts it behind TLS or opens it to a trusted network.',
    check: (v) => (isIP(v) === 0 ? 'is not an IP address' : null),
  }),
  serverRole: setting({
    key: 'server role',
    kind: 'enum',
    values: SERVER_ROLES,
    default: () => 'standalone server',
    why: "Samba's default role. It picks the original's default groups for remote calls: Administrators and Server Operators, or Domain Admins and Account Operators on a domain controller.",
  }),
  remoteCallGroups: setting({
    key: 'remote call groups',
    kind: 'list',
    default: () => [],
    why: "Empty: the original's groups for the server role. Listing groups here replaces them (the configurable ACL).",
    check: (v) => v.map((g) => accountNameProblem(g, 'group name')).find((p) => p !== null) ?? null,
  }),
  legacyInput: setting({
    key: 'legacy input',
    kind: 'enum',
    values: LEGACY_INPUT,
    default: () => 'subnets',
    why: 'The legacy wire (SMB, mailslot) proves nothing about the sender: take it only from "legacy subnets" (the local network by default), not from anywhere. "all" is the original; "none" takes only verified messages.',
  }),
  legacySubnets: setting({
    key: 'legacy subnets',
    kind: 'list',
    default: () => ['local'],
    why: '"local": loopback and the subnets of "interfaces", the broadcast segment the NetBIOS wire was made for. Add CIDR subnets ("10.0.0.0/8") to widen it.',
    check: (v) =>
      v.find((s) => s !== 'local' && !/^[0-9a-fA-F:.]+\/\d{1,3}$/.test(s)) === undefined ? null : 'may hold only "local" and CIDR subnets (10.0.0.0/8, fd00::/8)',
  }),
  messageTtl: setting({
    key: 'message ttl',
    kind: 'integer',
    default: () => 24 * 3600,
    min: 0,
    max: 366 * 24 * 3600,
    why: 'Seconds a message waits for a recipient with no terminal or desktop yet, then is shown when they log on; after a day it is marked expired instead of popping up late. Senders may give their own (send --ttl).',
  }),
  terminal: setting({
    key: 'terminal',
    kind: 'boolean',
    default: () => true,
    why: "Show each message on the daemon's terminal, as the Messenger pop-up did.",
  }),
  ttyMessages: setting({
    key: 'tty messages',
    kind: 'boolean',
    default: () => true,
    why: "Write each message to the terminals of the user it is for, as write(1) does: only where that user allows it (mesg y), so the person sees it wherever they are logged on.",
  }),
  desktopNotifications: setting({
    key: 'desktop notifications',
    kind: 'boolean',
    default: () => true,
    why: "Show each message as a desktop notification to the user it is for, with an Acknowledge button, as the pop-up appeared on the Windows desktop; without a session bus nothing happens.",
  }),
} as const;

export type SettingName = keyof typeof SETTINGS;
/** Each setting's value: an enum setting's is the union of its declared values. */
export type Settings = { readonly [P in SettingName]: SettingValue<(typeof SETTINGS)[P]> };

/** A setting's one name on the command line: its key with dashes ("smb ports" is --smb-ports). */
export const flagName = (name: SettingName): string => SETTINGS[name].key.replace(/ /g, '-');
export const envName = (name: SettingName) => `NETSEND_${SETTINGS[name].key.replace(/ /g, '_').toUpperCase()}`;
