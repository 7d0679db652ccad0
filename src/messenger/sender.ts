import { parseEndpoint } from './address.js';

/**
 * Who sent a message and from where, as the transport that took it in knew it. Which of the
 * fields are set says what kind of sender it was, with the message's `via`: a local caller has
 * a uid; a remote call an address and an account; a netsend host an address, a host and perhaps
 * a user; the legacy wire an address alone.
 */
export interface Sender {
  /** The local uid that sent it over the control socket; null when it came from the network. */
  readonly uid: number | null;
  /** The network peer's address, as the address parser gives it (no port); null for local sends. */
  readonly address: string | null;
  /** The peer's port, when its source had one. */
  readonly port: number | null;
  /** A local caller's login name, a remote call's account, or a netsend host's user (signed by that host). */
  readonly user: string | null;
  /** Over the secure channel: the sending host, verified by its key. */
  readonly host: SenderHost | null;
}

/** A netsend host as its handshake proved it: its name and its key's fingerprint ("SHA256:…"). */
export interface SenderHost {
  readonly name: string;
  readonly fingerprint: string;
}

/** A sender with the given fields, the others null. */
export function senderOf(fields: Partial<Sender> = {}): Sender {
  return { uid: null, address: null, port: null, user: null, host: null, ...fields };
}

/**
 * The address and port of a source ("10.0.0.5:40312", a web caller's bare address), through the
 * one parser; a source that is no address is kept as written, as its own key (sourceAddress).
 */
export function peerOf(source: string | null): Pick<Sender, 'address' | 'port'> {
  if (source === null) return { address: null, port: null };
  return parseEndpoint(source) ?? { address: source, port: null };
}

/** A host as the inbox's JSON and the store write it: "NAME SHA256:…". */
export function hostLine(host: SenderHost): string {
  return host.fingerprint === '' ? host.name : `${host.name} ${host.fingerprint}`;
}
