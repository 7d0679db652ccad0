/**
 * The config file, in smb.conf syntax so Samba administrators read it at once:
 *   [global]
 *     netbios name = PC1      # or ; for comments
 * Keys are case-insensitive and their spaces are not significant, as in Samba. Only [global].
 */
export interface ConfEntry {
  readonly key: string;
  readonly value: string;
  readonly line: number;
}

export class ConfSyntaxError extends SyntaxError {
  override readonly name = 'ConfSyntaxError';
}

export const MAX_CONF_BYTES = 64 * 1024;

export function parseSmbConf(text: string, source: string): ConfEntry[] {
  if (text.length > MAX_CONF_BYTES) throw new ConfSyntaxError(`${source} is over ${MAX_CONF_BYTES} bytes`);
  const entries: ConfEntry[] = [];
  let section = 'global';
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    const where = `${source}:${index + 1}`;
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    const header = /^\[([^\]]*)\]$/.exec(line);
    if (header) {
      section = (header[1] ?? '').trim().toLowerCase();
      if (section !== 'global') throw new ConfSyntaxError(`${where}: unknown section [${section}]; netsend reads only [global]`);
      return;
    }
    const eq = line.indexOf('=');
    if (eq <= 0) throw new ConfSyntaxError(`${where}: expected "key = value", found ${JSON.stringify(line)}`);
    entries.push({ key: canonicalKey(line.slice(0, eq)), value: line.slice(eq + 1).trim(), line: index + 1 });
  });
  return entries;
}

/** "Netbios  Name" and "netbiosname" both name `netbios name`'s canonical form "netbiosname". */
export function canonicalKey(key: string): string {
  return key.toLowerCase().replace(/[\s_-]+/g, '');
}
