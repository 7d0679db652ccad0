/** Messages on their way to other hosts: what the Messenger asks of the transports that send them. */
import { NetApiError } from './errors.js';
import type { Priority } from './message.js';

/** A message on its way to another host. */
export interface OutgoingMessage {
  readonly from: string;
  readonly to: string;
  readonly text: string;
  /** Carried to netsend peers; on the legacy wire it becomes the text's first line (legacyText). */
  readonly title?: string;
  /** The sending user's login name, where known: netsend peers show it, verified by the host key. */
  readonly user?: string | null;
  /** Carried to netsend peers; the legacy wire has no priorities. */
  readonly priority?: Priority;
  /** Seconds the message may wait for its recipient there; netsend peers only. */
  readonly ttlSeconds?: number;
}

/** The text as the legacy wire carries it, which has no title: the title, if any, on a line of its own first. */
export function legacyText(message: Pick<OutgoingMessage, 'title' | 'text'>): string {
  return message.title === undefined ? message.text : `${message.title}\n${message.text}`;
}

export interface SendOptions {
  /** Deliver to this host ("10.0.0.5" or "10.0.0.5:139") instead of resolving the name. */
  readonly host?: string;
}

/** What a remote delivery reports back to the caller beside success. */
export interface SendReport {
  /** Characters the OEM code page could not hold were replaced (best fit or "?"). */
  readonly lossy?: boolean;
  /** The code page the text went out in. */
  readonly charset?: string;
  /** It went over netsend's secure channel (the recipient verified this host), not the legacy wire. */
  readonly secure?: boolean;
  /**
   * Through the organisation hub: the recipient host stored it already (`stored`), the hub holds
   * it for that host (`queued`), or the hub did not take it in time (away, or electing a leader)
   * and it waits in this host's outbox, which sends it as soon as the hub takes it (`outbox`).
   */
  readonly hub?: 'stored' | 'queued' | 'outbox';
  /**
   * A broadcast no other host could hear: this host has no address but loopback ("interfaces = lo",
   * the default) and no hub carried it.
   */
  readonly heardNowhere?: true;
  /** Where to ask what became of it (a netsend host's endpoint and its message id there). */
  readonly receipt?: { readonly host: string; readonly message: number };
}

/**
 * Delivers to other hosts (the SMB transport, names resolved through the name service). Throws
 * NetApiError with the status the original returned (NERR_NameNotFound, NERR_NetworkError, …).
 */
export interface RemoteSender {
  send(message: OutgoingMessage, options: SendOptions): Promise<SendReport>;
}

/** Where a broadcast goes: `*` (this host's workgroup) or `/DOMAIN:NAME`. */
export interface BroadcastScope {
  readonly workgroup: string;
}

/** Sends a message to every Messenger of a workgroup (the MESSNGR mailslot). */
export interface BroadcastSender {
  broadcast(message: OutgoingMessage, scope: BroadcastScope): Promise<SendReport>;
}

/** A broadcast to another workgroup from a host whose only address is loopback: nobody could receive it. */
export function noLanForBroadcast(workgroup: string): NetApiError {
  return new NetApiError(
    'NERR_NetworkError',
    `Nobody can receive a broadcast to ${workgroup}: this host is on loopback only ("interfaces", default lo). Set interfaces to the LAN (e.g. --interfaces eth0) or join a hub.`,
  );
}

/** What a broadcast gets when this host has no mailslot transport (no datagram port). */
export function broadcastsOff(): NetApiError {
  return new NetApiError('ERROR_NOT_SUPPORTED', 'Broadcast messages need the mailslot transport, which is off here.');
}

/** NET SEND's limit for broadcast messages, in characters. */
export const MAX_BROADCAST_CHARACTERS = 128;
