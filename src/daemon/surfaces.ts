import type { Writable } from 'node:stream';
import type { Config } from '../config/load.js';
import type { Sink } from '../messenger/messenger.js';
import type { Receipts } from '../messenger/receipts.js';
import { loggedOnTtys } from '../os/utmp.js';
import { DesktopSink, sessionBusTarget } from '../sinks/desktop.js';
import { FanOut } from '../sinks/fanout.js';
import { HookSink } from '../sinks/hook.js';
import { TerminalSink } from '../sinks/terminal.js';
import { TtySink } from '../sinks/tty.js';
import { PushHub } from '../web/push.js';

/** How long shutdown waits for message commands and surfaces still showing. */
const DRAIN_MS = 5000;
/** How long one message may take to reach one terminal: a terminal that takes nothing for this long is not being read. */
const TTY_TIMEOUT_MS = 2000;
/** How long a desktop notification may take, starting the helper process and connecting included. */
const DESKTOP_TIMEOUT_MS = 10_000;

/** Where received messages are shown, as one sink for the Messenger. */
export interface Surfaces {
  readonly sink: Sink;
  /** The web inbox's live stream, when the web inbox is on: its pages connect once the server runs. */
  readonly push: PushHub | undefined;
  /** Lets the message commands and surfaces finish what they have (bounded), then closes them. */
  drainAndClose(): Promise<void>;
}

/**
 * The person a message is for, wherever they are: the daemon's terminal, their terminals
 * (write(1)), their desktop, the message command, the web inbox. Each reports what it showed
 * to `receipts`, and those that reach a person where they are get waiting messages offered again.
 */
export function createSurfaces(config: Config, io: { stdout: Writable; log: (line: string) => void }, spoolDir: string, receipts: Receipts): Surfaces {
  const { log } = io;
  // "desktop:USER": the event log keeps the surface and who
  const userOf = (where: string) => (where.includes(':') ? where.slice(where.indexOf(':') + 1) : null);
  const hook = config.messageCommand === ''
    ? undefined
    : new HookSink({ command: config.messageCommand, timeoutMs: config.messageCommandTimeout * 1000, spoolDir, concurrency: 2, maxQueued: 1000, log });
  const tty = config.ttyMessages
    ? new TtySink({ ttysOf: (alias) => loggedOnTtys(alias), timeoutMs: TTY_TIMEOUT_MS, log, onShown: (message, where) => receipts.record(message, 'shown', 'tty', where) })
    : undefined;
  const desktop = config.desktopNotifications
    ? new DesktopSink({
        targetFor: (alias) => sessionBusTarget(alias),
        onAcknowledge: (message, where) => {
          log(`message ${message.id} acknowledged on ${where}`);
          receipts.record(message, 'acknowledged', 'desktop', userOf(where));
        },
        onShown: (message, where) => receipts.record(message, 'shown', 'desktop', userOf(where)),
        timeoutMs: DESKTOP_TIMEOUT_MS,
        log,
      })
    : undefined;
  const push = config.httpPort === 0 ? undefined : new PushHub();
  if (push) push.onDelivered = (message) => receipts.record(message, 'delivered', 'web', null);

  // each offer settles once every surface that reaches a person showed the message or gave up on it
  const retry = [tty, desktop].filter((sink) => sink !== undefined);
  receipts.offerTo({ deliver: (message) => Promise.all(retry.map((sink) => sink.deliver(message))) });

  // the terminal's one line about a dead output goes to the log, which is another stream (the CLI: stderr)
  const sinks: Sink[] = [config.terminal ? new TerminalSink(io.stdout, log) : undefined, tty, desktop, hook, push].filter((sink) => sink !== undefined);
  return {
    sink: new FanOut(sinks, (error) => log(`a delivery sink failed: ${String(error)}`)),
    push,
    async drainAndClose() {
      const drained = (sink: { drain(): Promise<void> } | undefined) =>
        sink && Promise.race([sink.drain(), new Promise((resolve) => setTimeout(resolve, DRAIN_MS).unref())]);
      await Promise.all([drained(hook), drained(tty), drained(desktop)]);
      await desktop?.close();
    },
  };
}
