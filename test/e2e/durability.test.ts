import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect } from '../../src/lib/client.js';
import { DaemonProcess, tempDataDir } from '../helpers/daemon.js';

test('every message acknowledged before a SIGKILL is in the inbox after the restart', async () => {
  const { dir, cleanup } = await tempDataDir();
  try {
    let daemon = await DaemonProcess.start(dir, ['--terminal', 'no']);
    const acknowledged = new Set<string>();
    const client = await connect({ dataDir: dir });
    // Four pipelines of sends; the daemon is killed once 300 are acknowledged, mid-stream.
    const killed = (async () => {
      while (acknowledged.size < 300) await new Promise((resolve) => setTimeout(resolve, 2));
      daemon.child.kill('SIGKILL');
    })();
    let sent = 0;
    const stream = async () => {
      for (;;) {
        const text = `durable-${sent++}`;
        try {
          await client.send({ to: 'TESTHOST', text });
        } catch {
          return; // the daemon is gone: what was acknowledged so far is what counts
        }
        acknowledged.add(text);
        if (sent > 100_000) throw new Error('the daemon was never killed');
      }
    };
    await Promise.all([stream(), stream(), stream(), stream(), killed]);
    const exit = await daemon.exited;
    assert.equal(exit.signal, 'SIGKILL');
    assert.ok(acknowledged.size >= 300);

    daemon = await DaemonProcess.start(dir, ['--terminal', 'no']);
    try {
      const after = await connect({ dataDir: dir });
      const stored = new Set<string>();
      for (let afterId = 0; ; ) {
        const page = await after.inbox.list({ afterId, limit: 1000 });
        if (page.length === 0) break;
        for (const m of page) stored.add(m.text);
        afterId = page.at(-1)?.id ?? afterId;
      }
      await after.close();
      const lost = [...acknowledged].filter((text) => !stored.has(text));
      assert.deepEqual(lost, [], `${lost.length} of ${acknowledged.size} acknowledged messages were lost`);
    } finally {
      await daemon.stop();
    }
  } finally {
    await cleanup();
  }
});
