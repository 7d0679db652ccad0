/**
 * Who is at the other end of a secure channel: the host certificate a peer presented in the
 * handshake, checked under `secure trust`, and the pinning of a host seen for the first time.
 */
import type { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { ControlServices } from '../../control/handlers.js';
import { NetApiError } from '../../messenger/errors.js';
import { hostNameOf, reservedHostName, type HostIdentity } from '../../security/host-identity.js';
import type { KnownHosts } from '../../security/known-hosts.js';
import { SecureChannelError, checkHostKey, type SecureTrust } from './client.js';

/** A peer that presented a host certificate the trust rules accept ("new": tofu, not pinned yet). */
export interface PeerHost {
  readonly name: string;
  readonly fingerprint: string;
  readonly certificate: X509Certificate;
  verdict: 'pinned' | 'ca' | 'new';
}

/** Why a peer's host certificate was not accepted: told to it, audited when it first asks for something. */
export interface Refusal {
  readonly name: string;
  readonly detail: string;
  readonly error: NetApiError;
}

/** What the checks read: the server's own options (SecureServerOptions). */
export interface HostCheckOptions {
  identity: HostIdentity;
  /** For this host's computer name, reserved to its own key. */
  services: ControlServices;
  knownHosts: KnownHosts;
  trust: SecureTrust;
  log: (line: string) => void;
}

/** One server's host checks; its pins are made one at a time. */
export class HostCheck {
  readonly #options: HostCheckOptions;
  #pinning: Promise<void> = Promise.resolve();

  constructor(options: HostCheckOptions) {
    this.#options = options;
  }

  /**
   * The peer's host certificate under `secure trust`, checked as this host checks the hosts it
   * dials: a key pinned for its name in known-hosts must match; otherwise `ca` wants the site CA's
   * signature, `known` refuses, and `tofu` takes the name as new (pinned at its first delivery).
   */
  async check(socket: TLSSocket, certificate: X509Certificate, fingerprint: string): Promise<{ host: PeerHost | null; refusal: Refusal | null }> {
    const name = hostNameOf(certificate);
    if (name === null) {
      const why = 'The host certificate names no host: its CN must be one host name (no spaces, #, : or control characters).';
      return { host: null, refusal: { name: '(no name)', detail: `${why} Key ${fingerprint}.`, error: new NetApiError('ERROR_ACCESS_DENIED', why) } };
    }
    // This host's own names and loopback names belong to this host's key alone.
    const reserved = fingerprint === this.#options.identity.fingerprint ? null : reservedHostName(name, this.#options.services.messenger.computerName);
    if (reserved !== null) {
      const why = `The host certificate names ${name}, ${reserved}: only this host's own key may.`;
      return { host: null, refusal: { name, detail: `${why} Key ${fingerprint}.`, error: new NetApiError('ERROR_ACCESS_DENIED', why) } };
    }
    try {
      const { knownHosts, trust, services } = this.#options;
      const verdict = await checkHostKey({ knownHosts, trust, key: name, fingerprint, socket, here: services.messenger.computerName });
      return { host: { name, fingerprint, certificate, verdict }, refusal: null };
    } catch (error) {
      if (!(error instanceof SecureChannelError)) this.#options.log(`secure: cannot check the host key of ${name}: ${String(error)}`);
      const message = error instanceof SecureChannelError ? error.message : `The host key of ${name} could not be checked here.`;
      return { host: null, refusal: { name, detail: message, error: new NetApiError('ERROR_ACCESS_DENIED', message) } };
    }
  }

  /** Pins a host name seen for the first time (tofu), once; a key pinned for it meanwhile wins. */
  pin(host: PeerHost): Promise<void> {
    const { knownHosts, log } = this.#options;
    const pinning = this.#pinning.then(async () => {
      const pinned = await knownHosts.lookup(host.name);
      if (pinned.length > 0 && !pinned.includes(host.fingerprint)) {
        throw new NetApiError('ERROR_ACCESS_DENIED', `The host key of ${host.name} has changed (now ${host.fingerprint}): someone may be impersonating it.`);
      }
      if (pinned.length === 0) {
        await knownHosts.add(host.name, host.fingerprint);
        log(`secure: pinned the host key of ${host.name}: ${host.fingerprint}`);
      }
      host.verdict = 'pinned';
    });
    this.#pinning = pinning.catch(() => {});
    return pinning;
  }
}
