import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Message, MessageType, NameFlag, RequestNameReply, sessionBus, type MessageBus } from 'dbus-next';

/** Why tests against a real D-Bus daemon cannot run here, or null. */
export function dbusUnavailable(): string | null {
  if (spawnSync('which', ['dbus-daemon']).status !== 0) return 'dbus-daemon is not installed (scripts/install-peers.sh installs it)';
  return null;
}

/**
 * A private session bus: dbus-daemon on a socket in its own temp dir, under `timeout` so it cannot
 * outlive a crashed test, stopped by PID. `as` runs it as another user (root only); `allowUsers`
 * lets those users connect too (a session bus admits only its own user by default).
 */
export class SessionBus {
  readonly address: string;
  readonly dir: string;
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;

  private constructor(address: string, dir: string, child: ChildProcess) {
    this.address = address;
    this.dir = dir;
    this.#child = child;
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  /** The address a bus in `dir` listens on, before it is started. */
  static addressIn(dir: string): string {
    return `unix:path=${join(dir, 'bus')}`;
  }

  static async tempDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'ns-dbus-'));
    await chmod(dir, 0o755);
    return dir;
  }

  static async start(options: { dir?: string; as?: { uid: number; gid: number }; allowUsers?: readonly string[] } = {}): Promise<SessionBus> {
    const dir = options.dir ?? (await SessionBus.tempDir());
    if (options.as) await chmod(dir, 0o777);
    const config = join(dir, 'session.conf');
    const allow = (options.allowUsers ?? []).map((user) => `<allow user="${user}"/>`).join('');
    await writeFile(
      config,
      `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>${SessionBus.addressIn(dir)}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/>${allow}</policy>
</busconfig>
`,
      { mode: 0o644 },
    );
    const child = spawn('timeout', ['-k', '5', '120', 'dbus-daemon', '--nofork', `--config-file=${config}`, '--print-address=1'], {
      stdio: ['ignore', 'pipe', 'ignore'], // it complains it cannot raise its fd limit
      ...(options.as ?? {}),
    });
    const address = await new Promise<string>((resolve, reject) => {
      let seen = '';
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error('dbus-daemon printed no address within 5 s'));
      }, 5000);
      child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
        seen += chunk;
        if (!seen.includes('\n')) return;
        clearTimeout(timer);
        resolve(seen.split('\n')[0] as string);
      });
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`dbus-daemon exited with ${code}`)));
    });
    return new SessionBus(address, dir, child);
  }

  /** Stops the daemon (SIGTERM to `timeout`, which passes it on), and removes the dir. */
  async stop(): Promise<void> {
    this.#child.kill('SIGTERM');
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 2000);
    await this.#exited;
    clearTimeout(timer);
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** One Notify call as the server received it. */
export interface NotifyCall {
  appName: string;
  replacesId: number;
  icon: string;
  summary: string;
  body: string;
  actions: string[];
  hints: Record<string, unknown>;
  expireTimeout: number;
  /** The caller's unique bus name. */
  sender: string;
  /** The id the server answered with. */
  id: number;
}

const NAME = 'org.freedesktop.Notifications';
const PATH = '/org/freedesktop/Notifications';

/** A notification server as small as the spec allows: records Notify calls, emits signals on demand. */
export class FakeNotificationServer {
  readonly calls: NotifyCall[] = [];
  readonly bus: MessageBus;
  /** When true, Notify calls get no answer at all (a hung server). */
  silent = false;
  #nextId = 41;

  private constructor(bus: MessageBus) {
    this.bus = bus;
    bus.addMethodHandler((message: Message) => {
      if (message.type !== MessageType.METHOD_CALL || message.interface !== NAME || message.member !== 'Notify') return false;
      if (this.silent) return true;
      const [appName, replacesId, icon, summary, body, actions, hints, expireTimeout] = message.body as [string, number, string, string, string, string[], Record<string, { value: unknown }>, number];
      const id = this.#nextId++;
      const plainHints = Object.fromEntries(Object.entries(hints).map(([key, variant]) => [key, variant.value]));
      this.calls.push({ appName, replacesId, icon, summary, body, actions, hints: plainHints, expireTimeout, sender: message.sender, id });
      bus.send(Message.newMethodReturn(message, 'u', [id]));
      return true;
    });
  }

  static async start(address: string): Promise<FakeNotificationServer> {
    const bus = await connect(address);
    const reply = await bus.requestName(NAME, NameFlag.DO_NOT_QUEUE);
    if (reply !== RequestNameReply.PRIMARY_OWNER) throw new Error(`cannot own ${NAME}: ${reply}`);
    return new FakeNotificationServer(bus);
  }

  /** The user clicked an action button. */
  actionInvoked(id: number, key: string): void {
    this.bus.send(Message.newSignal(PATH, NAME, 'ActionInvoked', 'us', [id, key]));
  }

  /** The notification went away (reason 2: dismissed by the user). */
  closed(id: number): void {
    this.bus.send(Message.newSignal(PATH, NAME, 'NotificationClosed', 'uu', [id, 2]));
  }

  /** The uid the bus daemon saw connect as `uniqueName` (from the kernel). */
  async uidOf(uniqueName: string): Promise<number> {
    const reply = await this.bus.call(
      new Message({ destination: 'org.freedesktop.DBus', path: '/org/freedesktop/DBus', interface: 'org.freedesktop.DBus', member: 'GetConnectionUnixUser', signature: 's', body: [uniqueName] }),
    );
    return reply?.body[0] as number;
  }

  stop(): void {
    this.bus.disconnect();
  }
}

/** A client connection, once it said Hello; rejects on error or after 5 s. */
export function connect(address: string): Promise<MessageBus> {
  const bus = sessionBus({ busAddress: address });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no connection to ${address} within 5 s`)), 5000);
    bus.once('connect', () => {
      clearTimeout(timer);
      resolve(bus);
    });
    bus.on('error', (error: unknown) => {
      clearTimeout(timer);
      reject(error instanceof Error ? error : new Error(String(error)));
    });
  });
}
