import { isIP } from 'node:net';
import { foldNetbiosName } from '../messenger/netbios-names.js';

/**
 * The lmhosts file (Windows' %SystemRoot%\System32\drivers\etc\lmhosts, Samba's lmhosts): one
 * "ADDRESS NAME [#PRE] [#DOM:domain]" per line, '#' starts a comment except for those keywords.
 * A name may be quoted, and may end in "\0xNN" to give its 16th byte (the suffix) explicitly.
 */
export interface LmhostsEntry {
  readonly address: string;
  readonly name: string;
  /** The suffix byte when the entry names one; undefined matches every suffix. */
  readonly suffix: number | undefined;
  readonly line: number;
}

export class LmhostsSyntaxError extends SyntaxError {
  override readonly name = 'LmhostsSyntaxError';
}

/** Lines past this are not an lmhosts file anyone wrote by hand. */
export const MAX_LMHOSTS_LINES = 10_000;

export function parseLmhosts(text: string, source = 'lmhosts'): LmhostsEntry[] {
  const lines = text.split(/\r?\n/);
  if (lines.length > MAX_LMHOSTS_LINES) throw new LmhostsSyntaxError(`${source} has over ${MAX_LMHOSTS_LINES} lines`);
  const entries: LmhostsEntry[] = [];
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const match = /^(\S+)\s+("([^"]*)"|[^\s#]+)/.exec(line);
    const where = `${source}:${index + 1}`;
    if (match === null) throw new LmhostsSyntaxError(`${where}: expected "ADDRESS NAME", found ${JSON.stringify(line)}`);
    const address = match[1] as string;
    if (isIP(address) !== 4) throw new LmhostsSyntaxError(`${where}: "${address}" is not an IPv4 address`);
    let name = match[3] ?? (match[2] as string);
    let suffix: number | undefined;
    const explicit = /^(.*)\\0x([0-9a-fA-F]{2})$/.exec(name);
    if (explicit) {
      name = (explicit[1] as string).trimEnd();
      suffix = Number.parseInt(explicit[2] as string, 16);
    }
    if (name.length === 0 || name.length > 15) throw new LmhostsSyntaxError(`${where}: "${name}" is not a NetBIOS name of 1-15 characters`);
    entries.push({ address, name: foldNetbiosName(name), suffix, line: index + 1 });
  });
  return entries;
}
