import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SessionBus } from './dbus.js';
import { waitUntil } from './netns.js';

/** Why a desktop with a real notification daemon cannot run here, or null. */
export function dunstUnavailable(): string | null {
  for (const tool of ['Xvfb', 'dunst', 'dunstctl', 'dbus-daemon']) {
    if (spawnSync('which', [tool]).status !== 0) return `${tool} is not installed (scripts/install-peers.sh installs it)`;
  }
  return null;
}

/** dunst's history: each notification's fields as D-Bus variants. */
interface DunstHistory {
  data: Array<Array<Record<string, { data: unknown }>>>;
}

/**
 * A graphical session as a person has one: an X server (Xvfb, on a display it picks itself), the
 * user's session bus, and dunst as the notification daemon. dunst's context menu (`dunstctl
 * context`, normally dmenu) is a script that picks "Acknowledge", as the person would. Every
 * process runs under `timeout` and is stopped by PID.
 */
export class DunstDesktop {
  readonly bus: SessionBus;
  readonly display: string;
  readonly #dir: string;
  readonly #children: ChildProcess[];

  private constructor(bus: SessionBus, display: string, dir: string, children: ChildProcess[]) {
    this.bus = bus;
    this.display = display;
    this.#dir = dir;
    this.#children = children;
  }

  static async start(): Promise<DunstDesktop> {
    const dir = await mkdtemp(join(tmpdir(), 'ns-dunst-'));
    const children: ChildProcess[] = [];
    let bus: SessionBus | undefined;
    try {
      // -displayfd: Xvfb takes a free display and writes its number to fd 3
      const xvfb = spawn('timeout', ['-k', '5', '120', 'Xvfb', '-displayfd', '3', '-nolisten', 'tcp', '-screen', '0', '1024x768x24'], { stdio: ['ignore', 'ignore', 'ignore', 'pipe'] });
      children.push(xvfb);
      const display = await new Promise<string>((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new Error('Xvfb named no display within 10 s')), 10_000);
        (xvfb.stdio[3] as NodeJS.ReadableStream).setEncoding('utf8').on('data', (chunk: string) => {
          out += chunk;
          if (out.includes('\n')) {
            clearTimeout(timer);
            resolve(`:${out.trim()}`);
          }
        });
        xvfb.once('exit', (code) => reject(new Error(`Xvfb exited (${code}) before naming a display`)));
      });
      bus = await SessionBus.start();
      const pick = join(dir, 'menu');
      await writeFile(pick, `#!/bin/sh\ntee "${join(dir, 'menu.txt')}" | grep -m1 Acknowledge\n`);
      await chmod(pick, 0o755);
      const config = join(dir, 'dunstrc');
      await writeFile(config, `[global]\n    dmenu = ${pick}\n`);
      const dunst = spawn('timeout', ['-k', '5', '120', 'dunst', '-config', config], {
        stdio: 'ignore',
        env: { ...process.env, DISPLAY: display, DBUS_SESSION_BUS_ADDRESS: bus.address },
      });
      children.push(dunst);
      const desktop = new DunstDesktop(bus, display, dir, children);
      await waitUntil(() => desktop.#ctl(['count', 'displayed']).status === 0, 10_000, 'dunst on the session bus');
      return desktop;
    } catch (error) {
      for (const child of children.reverse()) child.kill();
      await bus?.stop();
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }

  #ctl(args: readonly string[]) {
    return spawnSync('dunstctl', args, { encoding: 'utf8', timeout: 5000, env: { ...process.env, DBUS_SESSION_BUS_ADDRESS: this.bus.address } });
  }

  /** How many notifications are on the screen. */
  displayed(): number {
    return Number(this.#ctl(['count', 'displayed']).stdout.trim());
  }

  /** The person opens the newest notification's menu and picks "Acknowledge". */
  acknowledgeNewest(): void {
    const result = this.#ctl(['context']);
    if (result.status !== 0) throw new Error(`dunstctl context failed: ${result.stderr}`);
  }

  /** Closes every notification on the screen and returns dunst's history, newest first. */
  closeAllAndReadHistory(): Array<{ appname: string; summary: string; body: string }> {
    this.#ctl(['close-all']);
    const history = JSON.parse(this.#ctl(['history']).stdout) as DunstHistory;
    return (history.data[0] ?? []).map((n) => ({ appname: String(n.appname?.data), summary: String(n.summary?.data), body: String(n.body?.data) }));
  }

  async stop(): Promise<void> {
    for (const child of [...this.#children].reverse()) {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill();
        await exited;
      }
    }
    await this.bus.stop();
    await rm(this.#dir, { recursive: true, force: true });
  }
}
