import type { IncomingMessage } from './message.js';
import { peerOf } from './sender.js';

/**
 * The question every way in asks before a message enters netsend, and the port the front door
 * (security/front-door.ts) answers it through. The Messenger asks it once per message, whichever
 * transport brought it: no transport keeps its own copy of a rule.
 */

/** Every way a message enters netsend. A new transport adds its name here. */
export const TRANSPORTS = ['local', 'web', 'ntfy', 'secure', 'smb', 'mailslot', 'netsend'] as const;
export type Transport = (typeof TRANSPORTS)[number];

/** Who, from where, over what, to which name, how much. */
export interface Knock {
  readonly over: Transport;
  /** The network peer's address, as the address parser gives it (no port); null over the control socket. */
  readonly address: string | null;
  /** The authenticated account, or a local caller's login name; null when anonymous. */
  readonly account: string | null;
  /** A local caller's uid (the control socket). */
  readonly uid: number | null;
  /** A verified sending host's key fingerprint (netsend deliveries). */
  readonly hostKey: string | null;
  /**
   * Root or the daemon's own user on the control socket: it could write the database directly,
   * so no rate limit applies (the benchmarks and an administrator's scripts send at full speed).
   */
  readonly localAdministrator: boolean;
  /** The recipient alias, or the name a send goes to. */
  readonly to: string;
  /** Whether `to` is an alias of this host: only those have a budget of their own. */
  readonly toLocalAlias: boolean;
  /** UTF-16 bytes of the text, the unit of "max message size". */
  readonly bytes: number;
}

/** A refusal at the door: the status the caller gets and the reason, for it and the audit log. */
export interface Refusal {
  readonly status: 'NERR_NameInUse';
  readonly reason: string;
}

/** The front door as the Messenger sees it. */
export interface Admission {
  /** The rate limits: null when the message may go on. Synchronous, so a flood costs no awaits. */
  gate(knock: Knock): Refusal | null;
  /** The recipient alias's rules (legacy input, allow and deny lists): why it refuses the message, or null. */
  policy(message: IncomingMessage, alias: string): Promise<string | null> | string | null;
}

/** Who is calling: the uid the kernel reported on the control socket, and the login or account name. */
export interface Caller {
  readonly uid: number | null;
  readonly name?: string | null;
  /** Where a remote call came from ("10.0.0.5:51234"): its messages carry the account and address. */
  readonly source?: string | null;
  /** The way the call came in; default: the control socket. */
  readonly over?: Transport;
  /** Root or the daemon's user on the control socket (see Knock.localAdministrator). */
  readonly localAdministrator?: boolean;
}

/** A caller's message (control socket, web, ntfy, a remote call) at the front door. */
export function callerKnock(caller: Caller, to: string, bytes: number, toLocalAlias: boolean): Knock {
  const over = caller.over ?? 'local';
  return {
    over,
    address: peerOf(caller.source || null).address,
    account: caller.name ?? null,
    uid: caller.uid,
    hostKey: null,
    localAdministrator: over === 'local' && caller.localAdministrator === true,
    to,
    toLocalAlias,
    bytes,
  };
}

/** A message from the network at the front door: its transport, its address, its verified host. */
export function networkKnock(message: IncomingMessage, to: string, toLocalAlias: boolean): Knock {
  const over: Transport = message.via === 'local' ? 'local' : message.via;
  return {
    over,
    address: message.sender.address,
    account: null,
    uid: message.sender.uid,
    hostKey: message.sender.host?.fingerprint || null,
    localAdministrator: false,
    to,
    toLocalAlias,
    bytes: message.text.length * 2,
  };
}
