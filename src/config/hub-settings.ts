/** The organisation hub's settings (docs/hub.md): empty `hub servers`, the default, means no hub. */
import { setting } from './kinds.js';

/**
 * Why a name cannot be the `hub realm`, or null: it goes as it is into NATS subjects and
 * JetStream stream, bucket and consumer names, so it holds only what all of them allow, briefly.
 */
export function realmProblem(realm: string): string | null {
  return /^[A-Za-z0-9_-]{1,32}$/.test(realm) ? null : 'must be 1-32 letters, digits, "-" or "_" (it is part of NATS subjects and stream names)';
}

export const HUB_SETTINGS = {
  hubServers: setting({
    key: 'hub servers',
    kind: 'list',
    default: () => [],
    why: 'No hub: the host stays serverless on its LAN. NATS URLs here (nats://host:4222 or tls://…, comma-separated) join the organisation hub (docs/hub.md).',
    check: (v) => v.map(hubUrlProblem).find((p) => p !== null) ?? null,
  }),
  hubCredentialsFile: setting({
    key: 'hub credentials file',
    kind: 'string',
    default: () => '',
    why: 'None: the hub takes anonymous hosts (a test or dev cluster). In production, the nkey seed file `netsend hub provision` wrote for this host (a JWT .creds file works too).',
  }),
  hubTlsCaFile: setting({
    key: 'hub tls ca file',
    kind: 'string',
    default: () => '',
    why: "None: tls:// servers are checked against the system's roots. A PEM file here is the CA the hub's certificates are signed by.",
  }),
  hubGateway: setting({
    key: 'hub gateway',
    kind: 'boolean',
    default: () => false,
    why: "Off: a host answers only for its own names. On, it is its LAN's gateway to the realm, as a WINS proxy was: it answers NetBIOS name queries for names held at other sites and relays the SMB messages Windows and smbclient send it for them through the hub (shown there as the legacy wire's, unverified).",
  }),
  hubRealm: setting({
    key: 'hub realm',
    kind: 'string',
    default: () => 'netsend',
    why: "The organisation's name on the hub: hosts of one realm share names and messages; another realm on the same cluster is apart.",
    check: (v) => realmProblem(v),
  }),
};

/** A hub server: nats:// or tls://, a host and a port. */
function hubUrlProblem(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `has "${url}", which is not a URL (nats://host:4222)`;
  }
  if (parsed.protocol !== 'nats:' && parsed.protocol !== 'tls:') return `has "${url}": hub servers are nats:// or tls:// URLs`;
  return parsed.hostname === '' ? `has "${url}", which names no host` : null;
}
