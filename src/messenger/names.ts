import { encodeOem } from '../protocols/smb1/oem.js';
import { NetApiError } from './errors.js';
import { netbiosNames } from './netbios-names.js';

/**
 * Message alias rules: an alias is a NetBIOS name with the messenger suffix 0x03 (RFC 1001 §5.2,
 * spec README §1), so it holds what a NetBIOS name can hold: 1–15 bytes in the OEM code page,
 * compared case-insensitively and kept upper-case, as Windows sends it on the wire. The upper
 * case is the code page's, as Samba makes it: one mapping for every part of netsend
 * (netbios-names.ts).
 */
export const MAX_ALIAS_LENGTH = 15;

/** Characters Windows refuses in NetBIOS names, and the wildcard `*` of name queries. */
const FORBIDDEN = /[\\/:*?"<>|\u0000-\u001f\u007f]/u;

export type AliasProblem =
  | 'empty'
  | 'too-long'
  | 'forbidden-character'
  | 'surrounding-space'
  | 'leading-period'
  | 'not-in-code-page';

/**
 * The canonical (upper-case) form of a name in the OEM code page `charset`: each character
 * upper-cased as Samba does (`ß` stays `ß`, `µ` stays `µ`), unless the code page lacks its capital
 * (CP850 has ÿ and ƒ but not Ÿ and Ƒ): then it stays as it is. See netbios-names.ts.
 */
export function oemUpperCase(name: string, charset = 'CP850'): string {
  return netbiosNames(charset).upper(name);
}

/** Why `name` cannot be an alias, or `null` when it can. `charset` is the OEM code page. */
export function aliasProblem(name: string, charset = 'CP850'): AliasProblem | null {
  if (name.length === 0) return 'empty';
  const upper = oemUpperCase(name, charset);
  if (FORBIDDEN.test(upper)) return 'forbidden-character';
  // NetBIOS pads names with spaces, so "BOB " and "BOB" would be the same name on the wire.
  if (upper.trim() !== upper) return 'surrounding-space';
  if (upper.startsWith('.')) return 'leading-period';
  const { bytes, lossy } = encodeOem(upper, charset);
  if (lossy) return 'not-in-code-page';
  if (bytes.length > MAX_ALIAS_LENGTH) return 'too-long';
  return null;
}

const PROBLEM_WORDS: Record<AliasProblem, string> = {
  empty: 'is empty',
  'too-long': `is longer than ${MAX_ALIAS_LENGTH} characters`,
  'forbidden-character': 'holds a character a NetBIOS name cannot hold (\\ / : * ? " < > | or a control character)',
  'surrounding-space': 'starts or ends with a space',
  'leading-period': 'starts with a period',
  'not-in-code-page': 'holds a character the OEM code page cannot represent',
};

/**
 * The canonical (upper-case) form of an alias.
 * @throws NetApiError ERROR_INVALID_PARAMETER when the name breaks a rule
 */
export function normalizeAlias(name: unknown, what = 'name', charset = 'CP850'): string {
  if (typeof name !== 'string') {
    throw new NetApiError('ERROR_INVALID_PARAMETER', `The ${what} must be a string.`);
  }
  const problem = aliasProblem(name, charset);
  if (problem !== null) {
    throw new NetApiError('ERROR_INVALID_PARAMETER', `The ${what} "${name}" ${PROBLEM_WORDS[problem]}.`);
  }
  return oemUpperCase(name, charset);
}

/**
 * The NetBIOS computer name Samba and Windows derive from a host name: the first DNS label,
 * upper-cased, cut to 15 bytes, with characters a NetBIOS name cannot hold replaced.
 */
export function computerNameFromHostname(hostname: string): string {
  const label = (hostname.split('.')[0] ?? '').toUpperCase().replace(/[^A-Z0-9!@#$%^&()'{}~_-]/g, '-');
  const name = label.slice(0, MAX_ALIAS_LENGTH);
  return name.length > 0 ? name : 'NETSEND';
}
