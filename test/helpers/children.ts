import type { ChildProcess } from 'node:child_process';

/**
 * Long-lived processes a test file started (daemons, nats-server), SIGKILLed when the file's
 * process exits before it stopped them. A test that fails half-way, or a run ended by
 * `--test-force-exit` after a timeout, then leaves nothing running: an orphan would hold its
 * ports, and while its pipes are open the test file's process could never exit on its own.
 */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

export function killOnExit(child: ChildProcess): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const c of live) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    });
  }
  live.add(child);
  child.once('exit', () => live.delete(child));
}
