import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { classicDateTime, printableName, printableText, senderNote, type StoredMessage } from '../messenger/message.js';
import type { Sink } from '../messenger/messenger.js';
import type { MessageRef } from '../messenger/receipts.js';
import { utmpUsers } from '../os/utmp.js';
import { lookupAccount } from '../os/local-users.js';

/** Where the person an alias names has a desktop session. */
export interface DesktopTarget {
  /** The local user, for logs and acknowledgements ("alice"). */
  readonly user: string;
  /** That user's session bus ("unix:path=/run/user/1000/bus"). */
  readonly busAddress: string;
  /** Reach the bus as this user (a root daemon, another user's bus); omitted: as the daemon. */
  readonly uid?: number;
  readonly gid?: number;
}

export interface DesktopOptions {
  /** The desktop of the user an alias names, or null when there is none to reach. */
  targetFor: (alias: string) => Promise<DesktopTarget | null> | DesktopTarget | null;
  /** Called when the user clicks "Acknowledge" on a message's notification. */
  onAcknowledge: (message: MessageRef, where: string) => void;
  /** Told once the notification server took a message (for receipts). */
  onShown?: (message: StoredMessage, where: string) => void;
  /** The longest one notification may take to show, starting the helper included. */
  timeoutMs: number;
  log: (line: string) => void;
  /** The compiled desktop-helper.js; tests may point elsewhere. */
  helperPath?: string;
}

/** One line from the parent to a helper. */
export interface HelperRequest {
  notify: { ref: number; summary: string; body: string; urgency: number };
}

/** One line from a helper to the parent. */
export type HelperEvent =
  | { shown: { ref: number; id: number } }
  | { failed: { ref: number; error: string } }
  | { action: { id: number; key: string } }
  | { closed: { id: number } };

/** The action key of the notification's button. */
export const ACK_ACTION = 'ack';
/** Notifications remembered per desktop for their acknowledgement; the oldest are forgotten first. */
const MAX_SHOWN = 1000;
/** How long a helper may take to end after its stdin closed before it is killed. */
const HELPER_EXIT_MS = 2000;

const DEFAULT_HELPER = fileURLToPath(new URL('./desktop-helper.js', import.meta.url));

/** The notification for a message: summary, and body in the notification markup (& < > escaped). */
export function notificationFor(message: StoredMessage): { summary: string; body: string; urgency: number } {
  const priority = message.priority ?? 'normal';
  const note = senderNote(message);
  const urgent = priority === 'urgent' ? 'URGENT: ' : '';
  const fromTo = `Message from ${printableName(message.from)} to ${printableName(message.to)}`;
  const when = `${classicDateTime(message.receivedAt)}${note === null ? '' : ` (${escapeMarkup(note)})`}`;
  // a titled message is headed by its title (as ntfy shows it); who sent it moves to the body's first line
  return {
    summary: `${urgent}${message.title === undefined ? fromTo : printableName(message.title)}`,
    body: `${message.title === undefined ? when : `${escapeMarkup(fromTo)} on ${when}`}\n${escapeMarkup(printableText(message.text))}`,
    urgency: URGENCY[priority],
  };
}

/** The Desktop Notifications spec's urgency hint: 0 low, 1 normal, 2 critical (stays, may sound). */
const URGENCY = { low: 0, normal: 1, high: 2, urgent: 2 } as const;

/** The Desktop Notifications body is a small HTML-like markup: text must not open tags or entities. */
export function escapeMarkup(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Shows each message as a desktop notification (org.freedesktop.Notifications.Notify) on the
 * session bus of the user it is for, with an "Acknowledge" button.
 *
 * D-Bus is spoken by a helper process per desktop (desktop-helper.ts), not in the daemon: a
 * session bus admits only its own user, so a root daemon must run it as that user; and a bus
 * that hangs or a D-Bus library fault can then only end the helper. A helper starts with the first
 * message for its desktop and ends when its bus goes away or the sink closes; the next message
 * starts a new one.
 */
export class DesktopSink implements Sink {
  readonly #options: DesktopOptions;
  readonly #helpers = new Map<string, Helper>();
  /** Per desktop: notification id → message id, for ActionInvoked; survives helper restarts. */
  readonly #shown = new Map<string, Map<number, MessageRef>>();
  readonly #pending = new Set<Promise<void>>();
  #closed = false;

  constructor(options: DesktopOptions) {
    this.#options = options;
  }

  /** The promise settles (never rejects) once the message was shown or given up on. */
  deliver(message: StoredMessage): Promise<void> {
    if (this.#closed) return Promise.resolve();
    const delivery = this.#deliver(message)
      .catch((error: unknown) => this.#options.log(`desktop: message ${message.id} to ${message.to}: ${String(error)}`))
      .finally(() => this.#pending.delete(delivery));
    this.#pending.add(delivery);
    return delivery;
  }

  /** Resolves once the messages handed over so far were shown or given up on. */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.#pending]);
  }

  /** Ends every helper; acknowledgements of notifications still on screen are no longer heard. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#helpers.values()].map((helper) => helper.close()));
    this.#helpers.clear();
  }

  async #deliver(message: StoredMessage): Promise<void> {
    const target = await this.#options.targetFor(message.to);
    if (target === null || this.#closed) return;
    const key = `${target.uid ?? 'self'} ${target.busAddress}`;
    let helper = this.#helpers.get(key);
    if (helper === undefined || helper.ending) {
      helper = new Helper(target, this.#options.helperPath ?? DEFAULT_HELPER, this.#options.timeoutMs, (event) => this.#onEvent(key, target, event));
      const started = helper;
      started.exited.then((why) => {
        if (this.#helpers.get(key) === started) this.#helpers.delete(key);
        if (why !== null) this.#options.log(`desktop: the helper for ${target.user} (${target.busAddress}) ended: ${why}`);
      });
      this.#helpers.set(key, helper);
    }
    const id = await helper.notify(notificationFor(message));
    this.#options.onShown?.(message, `desktop:${target.user}`);
    const shown = this.#shown.get(key) ?? new Map<number, MessageRef>();
    shown.set(id, { id: message.id, to: message.to, ...(message.origin === undefined ? {} : { origin: message.origin }) });
    if (shown.size > MAX_SHOWN) shown.delete(shown.keys().next().value as number);
    this.#shown.set(key, shown);
  }

  #onEvent(key: string, target: DesktopTarget, event: HelperEvent): void {
    const shown = this.#shown.get(key);
    if ('action' in event) {
      const message = shown?.get(event.action.id);
      if (message === undefined || event.action.key !== ACK_ACTION) return;
      shown?.delete(event.action.id);
      try {
        this.#options.onAcknowledge(message, `desktop:${target.user}`);
      } catch (error) {
        this.#options.log(`desktop: acknowledging message ${message.id} failed: ${String(error)}`);
      }
    } else if ('closed' in event) {
      shown?.delete(event.closed.id);
    }
  }
}

/** One helper process: requests in on stdin, events out on stdout, both JSON lines. */
class Helper {
  /** Resolves when the process is gone: null if it ended because it was asked to, else why. */
  readonly exited: Promise<string | null>;
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #timeoutMs: number;
  readonly #waiting = new Map<number, { resolve: (id: number) => void; reject: (error: Error) => void; timer: NodeJS.Timeout }>();
  #nextRef = 1;
  #closing = false;
  /** Killed or asked to end: the next message needs a new helper. */
  ending = false;
  #stderr = '';

  constructor(target: DesktopTarget, helperPath: string, timeoutMs: number, onEvent: (event: HelperEvent) => void) {
    this.#timeoutMs = timeoutMs;
    this.#child = spawn(process.execPath, [helperPath, target.busAddress, String(timeoutMs)], {
      stdio: ['pipe', 'pipe', 'pipe'],
      cwd: '/',
      // Nothing of the daemon's environment reaches a process running as someone else.
      env: { DBUS_SESSION_BUS_ADDRESS: target.busAddress },
      ...(target.uid === undefined ? {} : { uid: target.uid }),
      ...(target.gid === undefined ? {} : { gid: target.gid }),
    });
    this.#child.stdin.on('error', () => {}); // a helper that died: its exit reports why
    this.#child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      if (this.#stderr.length < 2000) this.#stderr += chunk;
    });
    createInterface({ input: this.#child.stdout }).on('line', (line) => {
      let event: HelperEvent;
      try {
        event = JSON.parse(line) as HelperEvent;
      } catch {
        return;
      }
      if ('shown' in event) this.#settle(event.shown.ref, (w) => w.resolve(event.shown.id));
      else if ('failed' in event) this.#settle(event.failed.ref, (w) => w.reject(new Error(event.failed.error)));
      else onEvent(event);
    });
    this.exited = new Promise((resolve) => {
      const done = (why: string | null) => {
        for (const ref of [...this.#waiting.keys()]) this.#settle(ref, (w) => w.reject(new Error(why ?? 'the helper was stopped')));
        resolve(why);
      };
      // every 'error' is handled: after a failed start, a kill the system refuses (a daemon without
      // CAP_KILL, a helper running as another user) emits one too, and an unhandled one would crash
      // the daemon; that helper ends with its own exit, or stays hung and is no longer used
      this.#child.on('error', (error) => {
        this.ending = true;
        if (this.#child.pid === undefined) done(`cannot start it: ${error.message}`);
      });
      this.#child.once('exit', (code, signal) => {
        this.ending = true;
        const stderr = this.#stderr.trim();
        done(this.#closing ? null : `exit ${code ?? signal}${stderr ? `: ${stderr}` : ''}`);
      });
    });
  }

  /** The notification id the server gave; rejects after the timeout (and ends the helper then). */
  notify(notification: { summary: string; body: string; urgency: number }): Promise<number> {
    const ref = this.#nextRef++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#settle(ref, (w) => w.reject(new Error(`no answer from the notification server within ${this.#timeoutMs} ms`)));
        this.ending = true; // a hung bus: the next message starts afresh
        this.#child.kill('SIGKILL');
      }, this.#timeoutMs);
      this.#waiting.set(ref, { resolve, reject, timer });
      const request: HelperRequest = { notify: { ref, ...notification } };
      this.#child.stdin.write(`${JSON.stringify(request)}\n`);
    });
  }

  async close(): Promise<void> {
    this.#closing = true;
    this.ending = true;
    this.#child.stdin.end();
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), HELPER_EXIT_MS);
    await this.exited;
    clearTimeout(timer);
  }

  #settle(ref: number, action: (waiter: { resolve: (id: number) => void; reject: (error: Error) => void }) => void): void {
    const waiter = this.#waiting.get(ref);
    if (waiter === undefined) return;
    this.#waiting.delete(ref);
    clearTimeout(waiter.timer);
    action(waiter);
  }
}

/** The session bus systemd-logind gives a logged-in user, if it is there. */
async function runtimeBus(uid: number): Promise<string | null> {
  const path = `/run/user/${uid}/bus`;
  try {
    return (await stat(path)).isSocket() ? `unix:path=${path}` : null;
  } catch {
    return null;
  }
}

/**
 * The default `targetFor`: the desktop of the local user whose name is the alias (any case). The
 * daemon's own user is reached through DBUS_SESSION_BUS_ADDRESS or /run/user/<uid>/bus; other
 * users only by a root daemon, through their /run/user/<uid>/bus and a helper running as them.
 */
export async function sessionBusTarget(alias: string, env: NodeJS.ProcessEnv = process.env): Promise<DesktopTarget | null> {
  const wanted = alias.toLowerCase();
  let self: { username: string; uid: number } | undefined;
  try {
    self = userInfo();
  } catch {
    self = undefined; // a uid without a passwd entry has no name an alias could match
  }
  if (self !== undefined && self.username.toLowerCase() === wanted) {
    const busAddress = env.DBUS_SESSION_BUS_ADDRESS || (await runtimeBus(self.uid));
    return busAddress ? { user: self.username, busAddress } : null;
  }
  if (process.getuid?.() !== 0) return null;
  const account = await lookupAccount((await utmpUsers()).find((user) => user.toLowerCase() === wanted) ?? wanted);
  if (account === null) return null;
  const busAddress = await runtimeBus(account.uid);
  return busAddress ? { user: account.name, busAddress, uid: account.uid, gid: account.gid } : null;
}
