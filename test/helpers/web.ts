import { DaemonProcess, freePort, tempDataDir } from './daemon.js';

/** A daemon with its web inbox on a free loopback port (the other listeners off). */
export async function startWebDaemon(args: readonly string[] = []): Promise<{ daemon: DaemonProcess; base: string; stop: () => Promise<void> }> {
  const temp = await tempDataDir();
  const port = await freePort();
  const daemon = await DaemonProcess.start(temp.dir, ['--smb-ports', '0', '--nbt-port', '0', '--dgram-port', '0', '--http-port', String(port), ...args], {
    // no terminal, tty or desktop output: these tests look at the web page
    env: { NETSEND_TERMINAL: 'no', NETSEND_TTY_MESSAGES: 'no', NETSEND_DESKTOP_NOTIFICATIONS: 'no' },
  });
  return {
    daemon,
    base: `http://127.0.0.1:${port}`,
    stop: async () => {
      await daemon.stop();
      await temp.cleanup();
    },
  };
}

/** `netsend web url`: a fresh one-time login URL. */
export async function loginUrl(daemon: DaemonProcess): Promise<string> {
  const result = await daemon.cli(['web', 'url']);
  if (result.code !== 0) throw new Error(`netsend web url failed: ${result.stderr}`);
  return result.stdout.trim();
}

/** Adds an account with a password (read on stdin, as a person types it). */
export async function addAccount(daemon: DaemonProcess, name: string, password: string, groups: readonly string[] = []): Promise<void> {
  const result = await daemon.cli(['user', 'add', name, ...groups.flatMap((g) => ['--group', g])], { input: `${password}\n` });
  if (result.code !== 0) throw new Error(`netsend user add failed: ${result.stderr}`);
}

/** A session of the web API as the page holds one: its cookie and CSRF token. */
export class WebSession {
  constructor(
    readonly base: string,
    readonly cookie: string,
    readonly csrf: string,
  ) {}

  static async login(base: string, body: Record<string, string>): Promise<WebSession> {
    const response = await fetch(`${base}/api/login`, { method: 'POST', headers: { Origin: base, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    if (!response.ok) throw new Error(`login failed: ${response.status} ${await response.text()}`);
    const cookie = (response.headers.get('set-cookie') ?? '').split(';')[0] as string;
    const { csrf } = (await response.json()) as { csrf: string };
    return new WebSession(base, cookie, csrf);
  }

  get(path: string): Promise<Response> {
    return fetch(`${this.base}${path}`, { headers: { Cookie: this.cookie } });
  }

  /** A change as the page makes it; `headers` override (to leave out the CSRF token or change Origin). */
  send(method: string, path: string, body?: unknown, headers: Record<string, string | undefined> = {}): Promise<Response> {
    const all: Record<string, string | undefined> = { Cookie: this.cookie, Origin: this.base, 'X-CSRF-Token': this.csrf, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...headers };
    const defined = Object.fromEntries(Object.entries(all).filter((e): e is [string, string] => e[1] !== undefined));
    return fetch(`${this.base}${path}`, { method, headers: defined, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  }
}
