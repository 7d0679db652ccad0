import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { keyFingerprint } from '../../security/certificate.js';
import type { HostIdentity } from '../../security/host-identity.js';
import type { KnownHosts } from '../../security/known-hosts.js';
import type { SecureTrust } from '../../config/choices.js';

// The trust modes are the `secure trust` setting's values (config/choices.ts); re-exported for this folder's many users and the daemon.
export type { SecureTrust };

export interface SecureConnectOptions {
  host: string;
  port: number;
  knownHosts: KnownHosts;
  trust: SecureTrust;
  /** The site CA (trust = ca). */
  caPem?: string;
  /** Daemons present their host certificate, so the peer knows which host is sending. */
  identity?: HostIdentity;
  timeoutMs?: number;
  /** Told when a host's key is pinned for the first time. */
  onPinned?: (host: string, fingerprint: string) => void;
}

/** Why the channel could not be opened: the peer is not there, or it is not who it was. */
export class SecureChannelError extends Error {
  override readonly name = 'SecureChannelError';
  constructor(
    readonly reason: 'unreachable' | 'untrusted' | 'changed',
    message: string,
  ) {
    super(message);
  }
}

/** "10.0.0.5:4139", "[fd00::5]:4139": the known-hosts key of an endpoint. */
export const endpointKey = (host: string, port: number) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

/**
 * Opens a TLS 1.3 connection to a netsend daemon and checks its host key before anything is
 * sent: against the pinned fingerprint, pinning it on first use (tofu), or against a site CA.
 * A changed key is refused, as SSH refuses one.
 */
export async function openSecureChannel(options: SecureConnectOptions): Promise<TLSSocket> {
  // Without a site CA, "ca" would mean Node's public roots with host names unchecked: any web certificate.
  if (options.trust === 'ca' && !options.caPem) throw new SecureChannelError('untrusted', 'Trust "ca" needs the site CA certificate ("secure ca file").');
  const key = endpointKey(options.host, options.port);
  const socket = await new Promise<TLSSocket>((resolve, reject) => {
    const socket = tlsConnect({
      host: options.host,
      port: options.port,
      minVersion: 'TLSv1.3',
      // Certificates are self-signed host keys; trust is decided below, by fingerprint or CA.
      rejectUnauthorized: false,
      servername: '',
      // Hosts are dialed by address or NetBIOS name, which site certificates rarely list: a CA
      // signature makes the peer one of the site's hosts, and its name is the certificate's CN.
      checkServerIdentity: () => undefined,
      ...(options.caPem ? { ca: options.caPem } : {}),
      ...(options.identity ? { key: options.identity.keyPem, cert: options.identity.certPem } : {}),
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new SecureChannelError('unreachable', `${key} did not answer within ${options.timeoutMs ?? 5000} ms.`));
    }, options.timeoutMs ?? 5000);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(new SecureChannelError('unreachable', `${key}: ${error.code ?? error.message}`));
    });
  });
  try {
    const certificate = socket.getPeerX509Certificate();
    if (certificate === undefined) throw new SecureChannelError('untrusted', `${key} presented no host certificate.`);
    const fingerprint = keyFingerprint(certificate);
    const verdict = await checkHostKey({ knownHosts: options.knownHosts, trust: options.trust, key, fingerprint, socket });
    if (verdict === 'new') {
      await options.knownHosts.add(key, fingerprint);
      options.onPinned?.(key, fingerprint);
    }
    return socket;
  } catch (error) {
    socket.destroy();
    throw error;
  }
}

/**
 * Whether a host's key is trusted, the same way in both directions (a daemon dialing a host, a
 * host delivering to this daemon): a key pinned for `key` in known-hosts must match; otherwise
 * `ca` wants a certificate the site CA signed, `known` refuses, and `tofu` answers "new" for the
 * caller to pin. `key` is the endpoint dialed ("10.0.0.5:4139") or the sending host's name.
 * @throws SecureChannelError changed (another key is pinned), untrusted
 */
export async function checkHostKey(options: {
  knownHosts: KnownHosts;
  trust: SecureTrust;
  key: string;
  fingerprint: string;
  socket: TLSSocket;
  /** Where the known-hosts file is, when the reader of the message is another host's administrator. */
  here?: string;
}): Promise<'pinned' | 'ca' | 'new'> {
  const { knownHosts, key, fingerprint, socket } = options;
  const file = options.here ? `${knownHosts.path} on ${options.here}` : knownHosts.path;
  const pinned = await knownHosts.lookup(key);
  if (pinned.length > 0) {
    if (pinned.includes(fingerprint)) return 'pinned';
    throw new SecureChannelError(
      'changed',
      `The host key of ${key} has changed (now ${fingerprint}): someone may be impersonating it. If the change is expected, remove its line from ${file}.`,
    );
  }
  if (options.trust === 'ca') {
    if (!socket.authorized) throw new SecureChannelError('untrusted', `${key}'s certificate is not signed by the site CA (${String(socket.authorizationError)}).`);
    return 'ca';
  }
  if (options.trust === 'known') throw new SecureChannelError('untrusted', `${key} (${fingerprint}) is not in ${file}; add it with "netsend host trust ${key} ${fingerprint}".`);
  return 'new';
}
