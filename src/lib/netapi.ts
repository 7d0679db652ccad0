/**
 * The original API (lmmsg.h), with its exact parameters and NET_API_STATUS results. Out
 * parameters (`bufptr`, `entriesread`, …) are `Ref` boxes the function fills, as C fills pointers.
 * Each function is a thin wrapper over {@link connect}: it never throws, it returns the status.
 */
import { decodeMessageBuffer, type MessageBuffer } from '../messenger/buffer.js';
import type { Alias } from '../messenger/aliases.js';
import { NetApiError } from '../messenger/errors.js';
import { foldNetbiosName } from '../messenger/netbios-names.js';
import { NERR } from '../messenger/status.js';
import { connect, connectRemote, type Client } from './client.js';

/** A C out parameter: the function sets `value`. */
export interface Ref<T> {
  value: T;
}

/** prefmaxlen for "as much as there is" (0xFFFFFFFF as a DWORD). */
export const MAX_PREFERRED_LENGTH = -1;

export interface MSG_INFO_0 {
  msgi0_name: string;
}

/** Forwarding was dropped from Windows long ago: the flag is 0 and the forward name null. */
export interface MSG_INFO_1 {
  msgi1_name: string;
  msgi1_forward_flag: number;
  msgi1_forward: string | null;
}

/** Largest buflen the library passes on; the daemon applies its own "max message size". */
const MAX_BUFLEN = 1024 * 1024;

/**
 * Sends `buflen` bytes of UTF-16LE text from `buf` to the alias `msgname`.
 * @param servername null for this computer (its name, with or without "\\", is the same)
 * @param fromname null for this computer's name
 */
export function NetMessageBufferSend(
  servername: string | null,
  msgname: string,
  fromname: string | null,
  buf: MessageBuffer,
  buflen: number,
): Promise<number> {
  return run(servername, async (client) => {
    const text = decodeMessageBuffer(buf, buflen, MAX_BUFLEN);
    await client.send({ to: msgname, from: fromname, text });
  });
}

/** Adds the alias `msgname` to the message name table. */
export function NetMessageNameAdd(servername: string | null, msgname: string): Promise<number> {
  return run(servername, (client) => client.names.add(msgname));
}

/** Deletes the alias `msgname` (the computer name cannot be deleted: NERR_DelComputerName). */
export function NetMessageNameDel(servername: string | null, msgname: string): Promise<number> {
  return run(servername, (client) => client.names.delete(msgname));
}

/**
 * Lists the aliases at `level` 0 (MSG_INFO_0) or 1 (MSG_INFO_1). With a `prefmaxlen` other than
 * MAX_PREFERRED_LENGTH, entries are returned while their size fits (at least one, so a caller
 * always progresses) and ERROR_MORE_DATA says to call again with the same `resume_handle`.
 * An entry's size is what the Windows structure takes: pointers of 8 bytes, a 4-byte flag, and
 * NUL-terminated UTF-16 strings.
 */
export function NetMessageNameEnum(
  servername: string | null,
  level: number,
  bufptr: Ref<MSG_INFO_0[] | MSG_INFO_1[] | null>,
  prefmaxlen: number,
  entriesread: Ref<number>,
  totalentries: Ref<number>,
  resume_handle: Ref<number> | null,
): Promise<number> {
  bufptr.value = null;
  entriesread.value = 0;
  totalentries.value = 0;
  let status: number = NERR.NERR_Success;
  return run(servername, async (client) => {
    checkLevel(level);
    const unlimited = prefmaxlen === MAX_PREFERRED_LENGTH || prefmaxlen === 0xffffffff;
    if (!unlimited && (!Number.isSafeInteger(prefmaxlen) || prefmaxlen < 0)) {
      throw new NetApiError('ERROR_INVALID_PARAMETER', 'prefmaxlen must be a byte count or MAX_PREFERRED_LENGTH.');
    }
    const start = resume_handle?.value ?? 0;
    if (!Number.isSafeInteger(start) || start < 0) throw new NetApiError('ERROR_INVALID_PARAMETER', 'The resume handle is not valid.');
    const names = await client.names.list();
    const page: Alias[] = [];
    let bytes = 0;
    for (const alias of names.slice(start)) {
      const size = entrySize(level, alias.name);
      if (!unlimited && page.length > 0 && bytes + size > prefmaxlen) break;
      page.push(alias);
      bytes += size;
    }
    bufptr.value = level === 0 ? page.map(info0) : page.map(info1);
    entriesread.value = page.length;
    totalentries.value = names.length;
    const next = start + page.length;
    if (resume_handle !== null) resume_handle.value = next < names.length ? next : 0;
    if (next < names.length) status = NERR.ERROR_MORE_DATA;
  }).then((result) => (result === NERR.NERR_Success ? status : result));
}

/** The alias `msgname` at `level` 0 or 1; NERR_NotLocalName when it is not one of this host's. */
export function NetMessageNameGetInfo(
  servername: string | null,
  msgname: string,
  level: number,
  bufptr: Ref<MSG_INFO_0 | MSG_INFO_1 | null>,
): Promise<number> {
  bufptr.value = null;
  return run(servername, async (client) => {
    checkLevel(level);
    const alias = await client.names.get(msgname);
    bufptr.value = level === 0 ? info0(alias) : info1(alias);
  });
}

const info0 = (alias: Alias): MSG_INFO_0 => ({ msgi0_name: alias.name });
const info1 = (alias: Alias): MSG_INFO_1 => ({ msgi1_name: alias.name, msgi1_forward_flag: 0, msgi1_forward: null });

function entrySize(level: number, name: string): number {
  const nameBytes = (name.length + 1) * 2;
  return level === 0 ? 8 + nameBytes : 24 + nameBytes;
}

function checkLevel(level: number): void {
  if (level !== 0 && level !== 1) throw new NetApiError('ERROR_INVALID_LEVEL', `Level ${String(level)} is not 0 or 1.`);
}

/**
 * Connects, runs `call` on the named server, and turns the outcome into a status number. Another
 * server is reached over netsend's secure channel, logged on with NETSEND_USER and
 * NETSEND_PASSWORD, or NETSEND_TOKEN (the original used the caller's Windows logon).
 */
async function run(servername: string | null, call: (client: Client) => Promise<unknown>): Promise<number> {
  let client: Client | undefined;
  try {
    if (servername === null || servername === '') {
      client = await connect();
    } else {
      const local = await connect().catch(() => undefined);
      if (local !== undefined && isThisComputer(servername, local.computerName)) client = local;
      else {
        await local?.close();
        client = await connectRemote({ server: servername });
      }
    }
    await call(client);
    return NERR.NERR_Success;
  } catch (error) {
    return error instanceof NetApiError ? error.status : NERR.NERR_InternalError;
  } finally {
    await client?.close();
  }
}

function isThisComputer(servername: string, computerName: string): boolean {
  // Compared as Samba compares names (strequal): upper-cased per character with Samba's table.
  const bare = foldNetbiosName(servername.replace(/^\\\\/, ''));
  return bare === foldNetbiosName(computerName) || bare === 'LOCALHOST' || bare === '127.0.0.1' || bare === '::1';
}
