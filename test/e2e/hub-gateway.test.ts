/**
 * The hub gateway (`hub gateway = yes`): a legacy client on one site's LAN (smbclient, as Windows'
 * NET SEND would) sends to a name another site holds; the gateway host relays it through the
 * real 3-node JetStream cluster, and the recipient's host stores it as what it is: a message from
 * the legacy wire, whose sender's name is only a claim.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freePort, runCommand, tempDataDir, type DaemonProcess } from '../helpers/daemon.js';
import { hubHost, waitForMessages } from '../helpers/hub.js';
import { NatsCluster, natsServerUnavailable } from '../helpers/nats.js';
import { clientStateLines, sambaUnavailable } from '../helpers/samba.js';

describe('the hub gateway relays legacy SMB messages to names held at other sites', { skip: natsServerUnavailable() ?? sambaUnavailable() ?? false }, () => {
  let cluster: NatsCluster;
  let gateway: DaemonProcess;
  let site: DaemonProcess;
  let smbPort: number;
  let conf: string;
  const dirs: Array<{ dir: string; cleanup: () => Promise<void> }> = [];

  before(async () => {
    cluster = await NatsCluster.start({ nodes: 3 });
    for (let i = 0; i < 3; i++) dirs.push(await tempDataDir());
    smbPort = await freePort();
    // the gateway's LAN: SMB on loopback, where smbclient is the legacy client
    gateway = await hubHost('GATEWAY', cluster, (dirs[0] as { dir: string }).dir, { args: ['--smb-ports', String(smbPort), '--hub-gateway', 'yes'] });
    site = await hubHost('FARSITE', cluster, (dirs[1] as { dir: string }).dir);
    const state = (dirs[2] as { dir: string }).dir;
    conf = join(state, 'smb.conf');
    await mkdir(state, { recursive: true });
    await writeFile(conf, `[global]\n${clientStateLines(state)}`);
  });
  after(async () => {
    await Promise.allSettled([gateway?.stop(), site?.stop()]);
    await cluster?.stop();
    for (const d of dirs) await d.cleanup();
  });

  const smbclient = (name: string, text: string) =>
    runCommand(['smbclient', '-s', conf, '-M', name, '-I', '127.0.0.1', '-p', String(smbPort), '-U', 'mallory', '-N', '-t', '5'], { input: text, timeoutMs: 20_000 });

  test("smbclient -M to a name the other site holds reaches it through the gateway, shown there as the legacy wire's, unverified, from the client's address", async () => {
    assert.equal((await site.cli(['name', 'CAROL', '/add'])).code, 0);
    // the gateway's replica learns the claim; until then the name is not one it relays
    const deadline = Date.now() + 15_000;
    let sent = await smbclient('carol', 'from an old desktop, far away');
    while (sent.stderr !== '' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      sent = await smbclient('carol', 'from an old desktop, far away');
    }
    assert.equal(sent.stderr, '', 'smbclient -M exits 0 even when sending fails: its stderr says');
    const [message] = await waitForMessages(site, (text) => text.startsWith('from an old desktop'), 1);
    assert.deepEqual(
      { from: message?.from, to: message?.to, via: message?.via, verified: message?.verified },
      { from: 'MALLORY', to: 'CAROL', via: 'smb', verified: false },
    );
    assert.match(String(message?.provenance), /^unverified: came over the legacy SMB wire to GATEWAY, relayed by the hub; the sender's name is not proven$/);
    assert.equal((await gateway.cli(['inbox', '--json'])).stdout, '', 'the gateway keeps no copy');
  });

  test("the recipient alias's rules decide, on the legacy client's address; a host: rule naming the gateway does not admit what it relays", async () => {
    // the client's address travels sealed: here 127.0.0.1, inside the recipient's "legacy subnets"
    // (loopback, as both sites run on this machine), so legacy input decides by the alias's setting
    assert.equal((await site.cli(['name', 'CAROL', '--legacy', 'none'])).code, 0);
    // the refusal is the recipient's, told back through the hub to the gateway, and by it to the client
    assert.match((await smbclient('carol', 'refused by legacy none')).stderr, /NT_STATUS_ACCESS_DENIED/);
    await site.waitFor(() => /hub: refused a message from GATEWAY to CAROL: Access is denied\. CAROL takes no unauthenticated \(smb\) messages\./.test(site.stderr), 15_000, 'the refusal by legacy none');
    // host:GATEWAY names a verified netsend host: the gateway did not write what it relays
    assert.equal((await site.cli(['name', 'CAROL', '--legacy', 'all', '--allow', 'host:GATEWAY'])).code, 0);
    assert.match((await smbclient('carol', 'not admitted by host:GATEWAY')).stderr, /NT_STATUS_ACCESS_DENIED/);
    await site.waitFor(() => /hub: refused a message from GATEWAY to CAROL: Access is denied\. CAROL takes messages only from host:GATEWAY\./.test(site.stderr), 15_000, 'the refusal by the allow list');
    // a rule on the client's own address does
    assert.equal((await site.cli(['name', 'CAROL', '--clear-policy'])).code, 0);
    assert.equal((await site.cli(['name', 'CAROL', '--legacy', 'all', '--allow', 'address:127.0.0.1'])).code, 0);
    assert.equal((await smbclient('carol', 'admitted by its address')).stderr, '');
    await waitForMessages(site, (text) => text === 'admitted by its address', 1);
    const texts = (await site.cli(['inbox', '--json'])).stdout;
    assert.doesNotMatch(texts, /refused by legacy none|not admitted by host:GATEWAY/);
  });

  test('a legacy sender whose name the realm cannot carry (over 15 characters) is refused by the gateway, not lost', async () => {
    const long = await runCommand(['smbclient', '-s', conf, '-M', 'carol', '-I', '127.0.0.1', '-p', String(smbPort), '-U', 'averyveryverylongusername', '-N', '-t', '5'], { input: 'long name', timeoutMs: 20_000 });
    assert.notEqual(long.stderr, '', 'smbclient is told');
    assert.match(gateway.stderr, /smb: storing a message from .* failed|cannot be relayed/);
  });

  test('a name nobody in the realm holds is refused at the session request, as a host that lacks it refuses', async () => {
    const sent = await smbclient('NOBODYHERE', 'lost?');
    assert.match(sent.stderr, /Called name not present|NT_STATUS|failed/i);
  });
});
