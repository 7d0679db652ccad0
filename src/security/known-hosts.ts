import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Pinned host keys, one `HOST FINGERPRINT` per line (`#` comments), as SSH's known_hosts: written
 * on first use, or distributed by the administrator. HOST is what the caller dialed
 * ("10.0.0.5:4139", "hostb.example:4139").
 */
export class KnownHosts {
  readonly #path: string;

  constructor(path: string) {
    this.#path = path;
  }

  get path(): string {
    return this.#path;
  }

  async lookup(host: string): Promise<string[]> {
    const text = await readFile(this.#path, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return '';
      throw error;
    });
    const wanted = host.toLowerCase();
    return text
      .split('\n')
      .map((line) => line.replace(/#.*/, '').trim().split(/\s+/))
      .filter(([name, fingerprint]) => name?.toLowerCase() === wanted && fingerprint !== undefined)
      .map(([, fingerprint]) => fingerprint as string);
  }

  async add(host: string, fingerprint: string): Promise<void> {
    if (/\s/.test(host) || /\s/.test(fingerprint)) throw new Error('host and fingerprint must not contain spaces');
    await mkdir(dirname(this.#path), { recursive: true, mode: 0o700 });
    await appendFile(this.#path, `${host} ${fingerprint}\n`, { mode: 0o600 });
  }
}
