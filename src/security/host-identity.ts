import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, X509Certificate, type KeyObject } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { keyFingerprint, selfSignedCertificate } from './certificate.js';

/** A host's key pair and the certificate that carries it in TLS. */
export interface HostIdentity {
  readonly name: string;
  readonly keyPem: string;
  readonly certPem: string;
  readonly privateKey: KeyObject;
  readonly fingerprint: string;
}

export const HOST_KEY_FILE = 'host-key.pem';
export const HOST_CERT_FILE = 'host-cert.pem';

/**
 * The host key pair, made at first start (Ed25519, mode 0600) and kept in the data dir; or the
 * administrator's key and certificate (a site CA's) when `secure cert file` names them. The
 * host's name on the secure channel is its certificate's CN, the name receivers read from the
 * handshake: the computer name in the certificate netsend makes, whatever the site CA wrote
 * (hosta.example.com) in an administrator's.
 */
export async function loadHostIdentity(options: { dataDir: string; computerName: string; certFile?: string; keyFile?: string }): Promise<HostIdentity> {
  if (options.certFile) {
    const certPem = await readFile(options.certFile, 'utf8');
    const keyPem = await readFile(options.keyFile || options.certFile, 'utf8');
    const name = hostNameOf(new X509Certificate(certPem));
    if (name === null) throw new Error(`The certificate in ${options.certFile} has no CN that could be a host name (one CN; no spaces, #, : or control characters; at most 253 characters).`);
    return identity(name, keyPem, certPem);
  }
  const keyPath = join(options.dataDir, HOST_KEY_FILE);
  const certPath = join(options.dataDir, HOST_CERT_FILE);
  let keyPem: string;
  try {
    keyPem = await readFile(keyPath, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    // exported by the generation itself: exporting the key afterwards can deadlock Node 20 (see generateBoxKeyPair in hub/envelope.ts)
    keyPem = generateKeyPairSync('ed25519', { privateKeyEncoding: { format: 'pem', type: 'pkcs8' }, publicKeyEncoding: { format: 'pem', type: 'spki' } }).privateKey;
    await writeFile(keyPath, keyPem, { mode: 0o600, flag: 'wx' });
  }
  const privateKey = createPrivateKey(keyPem);
  let certPem = await readFile(certPath, 'utf8').catch(() => '');
  // A new certificate when there is none, or when the computer name or the key changed.
  const current = certPem === '' ? null : new X509Certificate(certPem);
  if (current === null || current.subject !== `CN=${options.computerName}` || keyFingerprint(current) !== keyFingerprint(createPublicKey(privateKey))) {
    certPem = selfSignedCertificate(options.computerName, createPublicKey(privateKey), privateKey);
    await writeFile(certPath, certPem, { mode: 0o644 });
  }
  return identity(options.computerName, keyPem, certPem);
}

/**
 * The host a certificate names: its one CN, if that could be a host name (a NetBIOS name or a DNS
 * name: no spaces, no `#` or `:`, which known-hosts lines use, at most 253 characters).
 */
export function hostNameOf(certificate: X509Certificate): string | null {
  const names = certificate.subject.split('\n').filter((part) => part.startsWith('CN='));
  const name = names.length === 1 ? (names[0] as string).slice(3) : '';
  return /^[^\s\p{Cc}#:\\/*?"<>|,=+]{1,253}$/u.test(name) ? name : null;
}

/**
 * Why a peer may not go by `name` ("this host's own name", "a loopback name"), or null: no other
 * key may claim this host's computer name (any case, as NetBIOS names compare) or a loopback
 * name (`localhost`, `*.localhost`, 127.0.0.0/8), under any trust. Pinned under `tofu`, such a name would let a stranger pass for this host
 * and lock the real one out later.
 */
export function reservedHostName(name: string, computerName: string): string | null {
  const folded = name.toLowerCase().replace(/\.$/, '');
  if (folded === computerName.toLowerCase()) return "this host's own name";
  // (IPv6 loopback cannot be a certificate's host name: hostNameOf refuses a ':')
  if (folded === 'localhost' || folded.endsWith('.localhost') || /^127(\.\d{1,3}){3}$/.test(folded)) {
    return 'a loopback name';
  }
  return null;
}

function identity(name: string, keyPem: string, certPem: string): HostIdentity {
  const privateKey = createPrivateKey(keyPem);
  return { name, keyPem, certPem, privateKey, fingerprint: keyFingerprint(createPublicKey(privateKey)) };
}

/** The fields a netsend-to-netsend message signature covers, in a fixed order. */
export interface SignedFields {
  readonly from: string;
  readonly to: string;
  readonly text: string;
  /** null: the message has no title. */
  readonly title: string | null;
  readonly user: string | null;
  readonly host: string;
  readonly sentAt: string;
  readonly priority: string;
  /** Seconds it may wait for its recipient; null: the recipient's default. */
  readonly ttl: number | null;
}

// v1 for a message without a title, as every netsend signed before titles; v2 covers the title
const signedBytes = (m: SignedFields) =>
  Buffer.from(
    JSON.stringify(
      m.title === null
        ? ['netsend-message-v1', m.host, m.user, m.from, m.to, m.sentAt, m.priority, m.ttl, m.text]
        : ['netsend-message-v2', m.host, m.user, m.from, m.to, m.sentAt, m.priority, m.ttl, m.title, m.text],
    ),
    'utf8',
  );

/** The sending host's signature over a message (base64). Ed25519 keys sign raw; others with SHA-256. */
export function signMessage(fields: SignedFields, privateKey: KeyObject): string {
  return sign(privateKey.asymmetricKeyType === 'ed25519' ? null : 'sha256', signedBytes(fields), privateKey).toString('base64');
}

export function verifyMessage(fields: SignedFields, signature: string, publicKey: KeyObject): boolean {
  try {
    return verify(publicKey.asymmetricKeyType === 'ed25519' ? null : 'sha256', signedBytes(fields), publicKey, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}
