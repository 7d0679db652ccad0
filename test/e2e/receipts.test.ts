/**
 * Receipts, like `msg /w /time:`: a sender waits for the recipient's acknowledgement and learns
 * who acknowledged it where, or is told it was not acknowledged in time (exit code 3).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DaemonProcess, tempDataDir } from '../helpers/daemon.js';
import { WebSession, loginUrl, startWebDaemon } from '../helpers/web.js';

describe('send --wait and netsend ack', () => {
  let daemon: DaemonProcess;
  let cleanup: () => Promise<void>;

  before(async () => {
    const temp = await tempDataDir();
    cleanup = temp.cleanup;
    daemon = await DaemonProcess.start(temp.dir, ['--smb-ports', '0', '--nbt-port', '0', '--dgram-port', '0', '--terminal', 'no', '--tty-messages', 'no', '--desktop-notifications', 'no']);
    assert.equal((await daemon.cli(['name', 'ALICE', '/add'])).code, 0);
  });
  after(async () => {
    await daemon?.stop();
    await cleanup?.();
  });

  test('a message nobody acknowledges: exit 3 after --time, saying how far it got', async () => {
    const started = Date.now();
    const result = await daemon.cli(['send', 'ALICE', 'anyone there?', '--wait', '--time', '1']);
    assert.equal(result.code, 3, result.stderr);
    assert.match(result.stderr, /not acknowledged within 1 s \(message (\d+) is stored\); `netsend receipt \1` asks again\.\n$/);
    assert.ok(Date.now() - started < 5000);
  });

  test('the sender waiting with --wait learns at once who acknowledged, and where', async () => {
    const waiting = daemon.cli(['send', 'ALICE', 'please ack', '--wait', '--time', '20', '--json']);
    let id: number | undefined;
    for (let i = 0; i < 100 && id === undefined; i++) {
      const last = JSON.parse((await daemon.cli(['inbox', '--json', '--limit', '1'])).stdout || 'null') as { id: number; text: string } | null;
      if (last?.text === 'please ack') id = last.id;
      else await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.ok(id !== undefined, 'the message arrived');
    const acked = await daemon.cli(['ack', String(id)]);
    assert.equal(acked.code, 0, acked.stderr);
    assert.equal(acked.stdout, `Message ${id} acknowledged.\n`);
    const result = await waiting;
    assert.equal(result.code, 0, result.stderr);
    const { receipt } = JSON.parse(result.stdout.trim().split('\n').at(-1) as string) as { receipt: { id: number; state: string; acknowledgedBy: string; acknowledgedOn: string } };
    assert.deepEqual({ id: receipt.id, state: receipt.state, by: receipt.acknowledgedBy, on: receipt.acknowledgedOn }, { id, state: 'acknowledged', by: 'root', on: 'cli' });
  });

  test('--wait is for one recipient, and --time needs --wait', async () => {
    assert.equal((await daemon.cli(['send', '*', 'hi', '--wait'])).code, 2);
    assert.equal((await daemon.cli(['send', 'ALICE', 'hi', '--time', '5'])).code, 2);
    assert.equal((await daemon.cli(['ack', 'twelve'])).code, 2);
    const missing = await daemon.cli(['ack', '99999']);
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr.split('\n')[0], 'Element not found. (ERROR_NOT_FOUND 1168)', 'a missing message has its own status, not the alias one');
    assert.match(missing.stderr, /No message 99999 for you is here/);
  });
});

describe('receipts across surfaces', () => {
  test('a message pushed to an open web page is delivered there; read and acknowledged on the page; netsend receipt tells it all', async () => {
    const { daemon, base, stop } = await startWebDaemon();
    const controller = new AbortController();
    try {
      assert.equal((await daemon.cli(['name', 'ALICE', '/add'])).code, 0);
      const owner = await WebSession.login(base, { token: new URL(await loginUrl(daemon)).hash.replace(/^#token=/, '') });
      // an open page: the live stream, read until the message comes
      const stream = await fetch(`${base}/api/events`, { headers: { Cookie: owner.cookie }, signal: controller.signal });
      assert.equal(stream.status, 200);
      const sent = await daemon.cli(['send', 'ALICE', 'to the page', '--json']);
      const { id } = JSON.parse(sent.stdout) as { id: number };
      const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
      let seen = '';
      for (let i = 0; i < 50 && !seen.includes('to the page'); i++) seen += new TextDecoder().decode((await reader.read()).value);
      let receipt: { state: string; surfaces: Record<string, { state: string }> } | undefined;
      for (let i = 0; i < 40; i++) {
        receipt = JSON.parse((await daemon.cli(['receipt', String(id), '--json'])).stdout);
        if (receipt?.state === 'delivered') break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.equal(receipt?.state, 'delivered');
      assert.equal(receipt?.surfaces.web?.state, 'delivered');
      assert.equal((await owner.send('POST', `/api/messages/${id}/ack`)).status, 200);
      const human = await daemon.cli(['receipt', String(id)]);
      assert.equal(human.code, 0, human.stderr);
      assert.match(human.stdout, new RegExp(`^Message ${id}: acknowledged at \\d+/\\d+/\\d{4} \\d+:\\d\\d:\\d\\d [AP]M by root on web\\n  web: acknowledged \\(root\\)`));
    } finally {
      controller.abort();
      await stop();
    }
  });
});
