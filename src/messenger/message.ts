import { NetApiError } from './errors.js';
import { hostLine, type Sender } from './sender.js';

/** How a message reached this host. */
export const VIA = ['local', 'netsend', 'smb', 'mailslot'] as const;

/**
 * How insistently a message is shown: `low` quietly, `normal` as the pop-up was, `high` and
 * `urgent` with more noise (the desktop's urgency, bells on terminals). ntfy's 1-5 map onto them.
 */
export const PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;
export type Priority = (typeof PRIORITIES)[number];
export const isPriority = (value: unknown): value is Priority => PRIORITIES.includes(value as Priority);

/** ntfy's priority words and numbers (1 min … 5 max), which netsend's CLI takes as its HTTP endpoint does. */
const NTFY_LEVELS: Readonly<Record<string, number>> = { min: 1, low: 2, default: 3, normal: 3, high: 4, urgent: 5, max: 5 };
/** ntfy's five levels onto netsend's four: min and low are low, max and urgent urgent. */
const LEVEL_PRIORITY: readonly Priority[] = ['low', 'low', 'normal', 'high', 'urgent'];

/** A priority as people write it: netsend's words, ntfy's (min, default, max) or 1-5; null if none of them. */
export function priorityLevel(value: string): number | null {
  const word = value.trim().toLowerCase();
  return /^[1-5]$/.test(word) ? Number(word) : (NTFY_LEVELS[word] ?? null);
}

/** The priority of a level 1-5 (priorityLevel). */
export const priorityOfLevel = (level: number): Priority => LEVEL_PRIORITY[level - 1] ?? 'normal';

/** The legacy wire carries names anyone can claim: its messages are shown as unverified. */
export function isVerified(via: Via): boolean {
  return via === 'local' || via === 'netsend';
}
export type Via = (typeof VIA)[number];

/** A title is one line of at most this many characters (ntfy's Title; the pop-up's heading). */
export const MAX_TITLE_CHARACTERS = 256;

/**
 * A message's title as a sender gives it: absent (undefined, null or blank) or one line of at most
 * MAX_TITLE_CHARACTERS, kept as written but for the spaces around it.
 * @throws NetApiError ERROR_INVALID_PARAMETER for anything else
 */
export function checkTitle(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new NetApiError('ERROR_INVALID_PARAMETER', 'The title must be a string.');
  const title = value.trim();
  if (title === '') return undefined;
  if (title.length > MAX_TITLE_CHARACTERS || /[\u0000-\u001f\u007f]/.test(title) || !title.isWellFormed()) {
    throw new NetApiError('ERROR_INVALID_PARAMETER', `The title must be one line of at most ${MAX_TITLE_CHARACTERS} characters, without control characters.`);
  }
  return title;
}

/** Whether a title from another netsend host is one this host's rule keeps exactly as it came. */
export function isTitleAsSent(title: string): boolean {
  try {
    return checkTitle(title) === title;
  } catch {
    return false;
  }
}

/** A message as it arrives, before it is stored. */
export interface IncomingMessage {
  readonly from: string;
  readonly to: string;
  readonly text: string;
  /** A heading over the text (ntfy's Title), carried between netsend hosts; the legacy wire has none. */
  readonly title?: string;
  readonly via: Via;
  /** Who sent it and from where: built by the transport it came in by. */
  readonly sender: Sender;
  /** Default normal (the legacy wire has no priorities). */
  readonly priority?: Priority;
  /** When an unshown message stops waiting for its recipient (ms since the epoch); null: never. */
  readonly expiresAt?: number | null;
  /** Through the organisation hub: its id at the sending host. A second delivery of it is the same message. */
  readonly origin?: string;
}

/** A message once committed to the inbox. */
export interface StoredMessage extends IncomingMessage {
  readonly id: number;
  readonly receivedAt: Date;
}

/** The JSON shape of `netsend inbox --json` and of the control socket. */
export interface MessageJson {
  id: number;
  from: string;
  to: string;
  /** Only when the message has one. */
  title?: string;
  text: string;
  receivedAt: string;
  via: Via;
  /** False for the legacy wire (SMB, mailslot), where the sender's name is only a claim. */
  verified: boolean;
  priority: Priority;
  /** When it stops waiting for a recipient who is not there yet (ISO time). */
  expiresAt?: string;
  senderUser?: string;
  /** The sending netsend host: "NAME SHA256:…" (hostLine). */
  senderHost?: string;
  /** Who really sent it, as far as this host can tell (senderNote), when the header's name does not say. */
  provenance?: string;
}

/** The one place a message's sender becomes the JSON every surface prints. */
export function messageToJson(message: StoredMessage): MessageJson {
  const provenance = senderNote(message);
  const { id, from, to, title, text, via, sender } = message;
  const host = sender.host === null ? '' : hostLine(sender.host);
  return {
    id,
    from,
    to,
    ...(title === undefined ? {} : { title }),
    text,
    receivedAt: message.receivedAt.toISOString(),
    via,
    verified: isVerified(via),
    priority: message.priority ?? 'normal',
    ...(message.expiresAt ? { expiresAt: new Date(message.expiresAt).toISOString() } : {}),
    ...(sender.user ? { senderUser: sender.user } : {}),
    ...(host ? { senderHost: host } : {}),
    ...(provenance === null ? {} : { provenance }),
  };
}

/**
 * Who really sent a message, as far as this host can tell, in one line that every surface shows
 * the same way (the pop-ups, the desktop, the inbox, the web page, the message command): the
 * legacy wire's names are only claims; a local sender is the account the kernel reported, whatever
 * name it wrote in "from"; a netsend host is proved by its key. Null when the header's name is
 * already the verified sender (a local user sending as their own login name).
 */
export function senderNote(message: Pick<StoredMessage, 'from' | 'via' | 'sender'>): string | null {
  const { uid, address, user: account, host } = message.sender;
  switch (message.via) {
    case 'smb':
    case 'mailslot':
      // a hub gateway relayed it: the gateway is proven by its key, the name it was given is not
      return `unverified: came over the legacy ${message.via === 'smb' ? 'SMB' : 'mailslot'} wire${host ? ` to ${printableName(host.name)}, relayed by the hub` : ''}; the sender's name is not proven`;
    case 'netsend':
      return `verified: sent by ${account ? `${printableName(account)} on ` : ''}${printableName(host?.name || '?')}, host key ${host?.fingerprint || '?'}`;
    case 'local': {
      const user = account ? printableName(account) : null;
      if (address !== null) return `verified: sent by the account ${user ?? '?'}, by a remote call`;
      if (user !== null && user.toUpperCase() === message.from.toUpperCase()) return null;
      if (uid === null) return 'verified: sent on this host';
      return `verified: sent by the local account ${user ?? `with uid ${uid}`}`;
    }
  }
}

/**
 * The Messenger pop-up's header line, in the local time zone and the US short form Windows used
 * by default: `Message from BOB to ALICE on 11/25/2026 10:31:05 AM`.
 */
export function classicHeader(message: Pick<StoredMessage, 'from' | 'to' | 'receivedAt'>): string {
  return `Message from ${message.from} to ${message.to} on ${classicDateTime(message.receivedAt)}`;
}

/**
 * A message as the text surfaces show it (the pop-ups, `netsend inbox`), a string a line: the
 * header with the priority's mark and the id that `netsend ack` and `receipt` take; who really
 * sent it (`note`: senderNote, or the JSON's provenance), the title, a blank line, the text.
 * Everything from the network is cleaned for a terminal.
 */
export function popupLines(
  message: Pick<StoredMessage, 'id' | 'from' | 'to' | 'receivedAt' | 'priority' | 'title' | 'text'>,
  note: string | null,
): string[] {
  const mark = message.priority === 'urgent' ? 'URGENT ' : message.priority === 'high' ? 'IMPORTANT ' : '';
  const header = classicHeader({ from: printableName(message.from), to: printableName(message.to), receivedAt: message.receivedAt });
  return [
    `${mark}${header}  [id ${message.id}]`,
    ...(note === null ? [] : [`(${printableName(note)})`]),
    ...(message.title === undefined ? [] : [`Title: ${printableName(message.title)}`]),
    '',
    ...printableText(message.text).split('\n'),
  ];
}

/** The header's date and time alone: `11/25/2026 10:31:05 AM` (local time). */
export function classicDateTime(t: Date): string {
  const hour12 = t.getHours() % 12 === 0 ? 12 : t.getHours() % 12;
  const two = (n: number) => String(n).padStart(2, '0');
  const date = `${t.getMonth() + 1}/${t.getDate()}/${t.getFullYear()}`;
  const time = `${hour12}:${two(t.getMinutes())}:${two(t.getSeconds())} ${t.getHours() < 12 ? 'AM' : 'PM'}`;
  return `${date} ${time}`;
}

/** A name from the network shown inside a line (a header, a summary): printable, on one line. */
export function printableName(name: string): string {
  return printableText(name).replace(/[\n\t]/g, ' ');
}

/**
 * Text from the network is shown on terminals: drop control characters (escape sequences could
 * rewrite the screen or the title) but keep line breaks and tabs.
 */
export function printableText(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .replace(/\u001b\[[0-?]*[ -/]*[@-~]/g, '') // CSI sequences (colours, cursor moves), whole
    .replace(/\u001b\][^\u0007\u001b]*(\u0007|\u001b\\)?/g, '') // OSC sequences (window titles)
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, ''); // controls, bidi overrides
}

/** A page of the inbox, newest first: what the web inbox lists and searches. */
export interface MessageQuery {
  /** Only messages with a smaller id (the next page back); null for the newest. */
  readonly beforeId: number | null;
  /** Only messages with a larger id. */
  readonly afterId: number;
  readonly limit: number;
  /** Only messages whose sender, recipient, title or text contains this (case-insensitive for ASCII). */
  readonly text: string | null;
  /** Only messages to one of these names (case-insensitive); null for all. */
  readonly recipients: readonly string[] | null;
}
