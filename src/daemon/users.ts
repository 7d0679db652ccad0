import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';

/** glibc's `struct utmp` on Linux (x86_64, aarch64): 384-byte records. */
const UTMP_RECORD = 384;
const UT_TYPE = 0;
const UT_USER = 44;
const UT_USER_LENGTH = 32;
const USER_PROCESS = 7;
/** utmp holds one record per terminal; more than this is not a utmp file. */
const MAX_RECORDS = 4096;

/** The user names of USER_PROCESS records in a utmp file's bytes; partial records are ignored. */
export function usersFromUtmp(bytes: Uint8Array): string[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const users = new Set<string>();
  const records = Math.min(Math.floor(bytes.byteLength / UTMP_RECORD), MAX_RECORDS);
  for (let r = 0; r < records; r++) {
    const base = r * UTMP_RECORD;
    if (view.getInt16(base + UT_TYPE, true) !== USER_PROCESS) continue;
    const field = bytes.subarray(base + UT_USER, base + UT_USER + UT_USER_LENGTH);
    const end = field.indexOf(0);
    const name = Buffer.from(field.subarray(0, end < 0 ? field.length : end)).toString('utf8');
    if (name !== '') users.add(name);
  }
  return [...users];
}

/**
 * The users logged on to this host (from utmp, where there is one) and the daemon's own user:
 * the Messenger service registered each logged-on user's name as an alias.
 */
export function loggedOnUsers(utmpPath = '/var/run/utmp'): string[] {
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
