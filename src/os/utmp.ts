import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { userInfo } from 'node:os';

/** glibc's `struct utmp` on Linux (x86_64, aarch64): 384-byte records. */
const UTMP_RECORD = 384;
const UT_TYPE = 0;
const UT_LINE = 8;
const UT_LINE_LENGTH = 32;
const UT_USER = 44;
const UT_USER_LENGTH = 32;
const USER_PROCESS = 7;
const UTMP_PATH = '/var/run/utmp';
/** utmp holds one record per terminal; more than this is not a utmp file. */
const MAX_RECORDS = 4096;

/** A logged-on user and the terminal line of that login ("pts/3", "tty1"; may be empty). */
export interface UtmpSession {
  readonly user: string;
  readonly line: string;
}

function cString(field: Uint8Array): string {
  const end = field.indexOf(0);
  return Buffer.from(field.subarray(0, end < 0 ? field.length : end)).toString('utf8');
}

/** Every USER_PROCESS record of a utmp file's bytes, in file order; partial records are ignored. */
export function sessionsFromUtmp(bytes: Uint8Array): UtmpSession[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const sessions: UtmpSession[] = [];
  const records = Math.min(Math.floor(bytes.byteLength / UTMP_RECORD), MAX_RECORDS);
  for (let r = 0; r < records; r++) {
    const base = r * UTMP_RECORD;
    if (view.getInt16(base + UT_TYPE, true) !== USER_PROCESS) continue;
    const user = cString(bytes.subarray(base + UT_USER, base + UT_USER + UT_USER_LENGTH));
    if (user === '') continue;
    sessions.push({ user, line: cString(bytes.subarray(base + UT_LINE, base + UT_LINE + UT_LINE_LENGTH)) });
  }
  return sessions;
}

/** The user names of USER_PROCESS records in a utmp file's bytes; partial records are ignored. */
export function usersFromUtmp(bytes: Uint8Array): string[] {
  return [...new Set(sessionsFromUtmp(bytes).map((session) => session.user))];
}

/**
 * The utmp lines that name a terminal: pseudo-terminals (pts/3), virtual consoles and serial
 * lines (tty1, ttyS0), the console. Not "tty" (whoever opens it gets their own terminal), nor
 * "null", "stdout", "fd/1" and the like, nor anything that could leave /dev ("..", absolute).
 */
const TERMINAL_LINE = /^(?:pts\/\d{1,9}|tty[A-Za-z0-9]{1,16}|console)$/;

/**
 * The terminal devices where the user an alias names is logged on, as write(1) finds them: utmp
 * lines that name a terminal (`TERMINAL_LINE`) under /dev, the name compared case-insensitively
 * (aliases are upper-case, user names rarely are).
 */
export function ttysFromUtmp(bytes: Uint8Array, alias: string): string[] {
  const wanted = alias.toLowerCase();
  const ttys = new Set<string>();
  for (const { user, line } of sessionsFromUtmp(bytes)) {
    if (user.toLowerCase() === wanted && TERMINAL_LINE.test(line)) ttys.add(`/dev/${line}`);
  }
  return [...ttys];
}

/** `ttysFromUtmp` on this host's utmp; none when there is no utmp (macOS, minimal containers). */
export async function loggedOnTtys(alias: string, utmpPath = UTMP_PATH): Promise<string[]> {
  try {
    return ttysFromUtmp(await readFile(utmpPath), alias);
  } catch {
    return [];
  }
}

/** Recent reads of utmp by path, shared by the lookups that come within `maxAgeMs` of each other. */
const utmpReads = new Map<string, { at: number; users: Promise<string[]> }>();

/**
 * The user names utmp lists (none without a utmp), read without blocking the daemon and shared
 * for `maxAgeMs`: a sweep offering many messages to desktops reads it once, not once each.
 */
export function utmpUsers(utmpPath = UTMP_PATH, maxAgeMs = 1000): Promise<string[]> {
  const recent = utmpReads.get(utmpPath);
  if (recent !== undefined && Date.now() - recent.at < maxAgeMs) return recent.users;
  const users = readFile(utmpPath).then(usersFromUtmp, () => []);
  utmpReads.set(utmpPath, { at: Date.now(), users });
  return users;
}

/**
 * The users logged on to this host (from utmp, where there is one) and the daemon's own user:
 * the Messenger service registered each logged-on user's name as an alias.
 */
export function loggedOnUsers(utmpPath = UTMP_PATH): string[] {
  const names = new Set<string>();
  try {
    names.add(userInfo().username);
  } catch {
    // a uid with no passwd entry (containers) has no name to register
  }
  try {
    for (const name of usersFromUtmp(readFileSync(utmpPath))) names.add(name);
  } catch {
    // no utmp (macOS, minimal containers): the daemon's user is all we know
  }
  return [...names];
}
