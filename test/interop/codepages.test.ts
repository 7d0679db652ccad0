/**
 * Received text in five DOS code pages, against the oracle: the real `smbclient -M`, configured
 * with each `dos charset`, sends the same texts to netsend and to Samba's smbd (configured with the
 * same `dos charset`), and both store the same text. smbd converts what it receives from the dos
 * charset to UTF-8 (source3/smbd/message.c) before its `message command` writes it.
 *
 * Everything runs in one loopback-only namespace (IPv6 left on): an smbd per code page on
 * 127.0.0.N:139, a netsend per code page on its own port, and smbclient with private state dirs.
 */
import assert from 'node:assert/strict';
import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DaemonProcess, runCommand, tempDataDir } from '../helpers/daemon.js';
import { LoopbackNamespace, netnsUnavailable } from '../helpers/netns.js';
import { SmbdPeer, clientStateLines, sambaUnavailable } from '../helpers/samba.js';

const skip = netnsUnavailable() ?? sambaUnavailable();

/**
 * Texts of each code page's languages, each under 128 bytes of UTF-8 (smbclient converts its input
 * 127 bytes at a time); about half are words whose code-page bytes are valid UTF-8 by chance.
 */
const CORPUS: Record<string, { address: string; port: number; texts: string[] }> = {
  CP437: {
    address: '127.0.0.2',
    port: 1437,
    texts: ['Zwölf Boxkämpfer jagen Viktor quer über den großen Sylter Deich.', '¿Qué tal? ¡Olé! Räksmörgås, naïve', '╔╗\n╚╝', 'Menu ─┐'],
  },
  CP850: {
    address: '127.0.0.3',
    port: 1850,
    texts: ['Kæmi ný öxi hér, ykist þjófum nú bæði víl og ádrepa.', 'SÃO PAULO, ÉTÉ, ØRESUND', 'HÍÉR, NÍÉT DÍÉ!', 'SUÍÇA TRAÍÑA PARANOÏÉ'],
  },
  CP852: {
    address: '127.0.0.4',
    port: 1852,
    texts: ['Příliš žluťoučký kůň úpěl ďábelské ódy.', 'ďábel', 'paměť oběť soutěž šťáva', 'Iarăşi am depăşit păşunea.', 'Zażółć gęślą jaźń. Árvíztűrő'],
  },
  CP866: {
    address: '127.0.0.5',
    port: 1866,
    texts: ['Съешь же ещё этих мягких булок, да выпей чаю.', 'сам', 'там только совсем', 'раптом так смачно', 'според сватба'],
  },
  CP1252: {
    address: '127.0.0.6',
    port: 1252,
    texts: ['Dès Noël où un zéphyr haï me vêt de glaçons würmiens, œuvre « naïve »', 'PRÉŒDIPIEN', 'Rohr Ø½ Zoll, CAFÉ®', 'Preis 5 € – „billig“'],
  },
};


describe('smbclient -M in five code pages: netsend stores what smbd stores', { skip: skip ?? false, timeout: 60_000 }, () => {
  let ns: LoopbackNamespace;
  let cleanup: () => Promise<void>;
  const peers = new Map<string, { conf: string; smbd: SmbdPeer; netsend: DaemonProcess }>();
  const stops: Array<() => Promise<unknown>> = [];
  let sent = 0;

  before(async () => {
    const temp = await tempDataDir();
    cleanup = temp.cleanup;
    await chmod(temp.dir, 0o755); // smbd's message command runs as nobody and must reach each inbox
    ns = LoopbackNamespace.create();
    await Promise.all(
      Object.entries(CORPUS).map(async ([charset, { address, port }]) => {
        const dir = join(temp.dir, charset);
        await mkdir(dir, { recursive: true });
        const conf = join(dir, 'client.conf');
        await writeFile(
          conf,
          `[global]\n   name resolve order = lmhosts host\n   netbios name = SENDERHOST\n   workgroup = TESTGRP\n   dos charset = ${charset}\n   unix charset = UTF-8\n   log level = 1\n${clientStateLines(join(dir, 'client-state'))}`,
        );
        const smbd = await SmbdPeer.start(join(dir, 'samba'), ns, 'ORACLE', 90, { address, globals: [`dos charset = ${charset}`, 'unix charset = UTF-8'] });
        stops.push(() => smbd.stop());
        const netsend = await DaemonProcess.start(join(dir, 'netsend'), ['--smb-ports', String(port), '--dos-charset', charset, '--terminal', 'no', '--source-message-burst', '1000'], {
          prefix: ns.prefix,
          timeoutMs: 20_000,
        });
        stops.push(() => netsend.stop());
        peers.set(charset, { conf, smbd, netsend });
        assert.equal((await netsend.cli(['name', 'ALICE', '/add'])).code, 0);
      }),
    );
  });
  after(async () => {
    await Promise.all(stops.map((stop) => stop()));
    ns?.destroy();
    await cleanup?.();
  });

  /**
   * Sends `text` with smbclient (dos charset `charset`) to that code page's smbd and netsend, and
   * returns what each stored. The sender name is unique, so each message is found by it.
   */
  async function sendToBoth(charset: string, text: string): Promise<{ smbd: string; netsend: string }> {
    const { address, port } = CORPUS[charset] as { address: string; port: number };
    const { conf, smbd, netsend } = peers.get(charset) as NonNullable<ReturnType<typeof peers.get>>;
    const user = `u${++sent}`;
    const smbclient = (args: string[]) =>
      runCommand([...ns.prefix, 'smbclient', '-s', conf, ...args, '-U', user, '-N', '-t', '5'], { input: text, timeoutMs: 15_000 });
    const [toSmbd, toNetsend] = await Promise.all([smbclient(['-M', 'ORACLE', '-I', address]), smbclient(['-M', 'ALICE', '-I', '127.0.0.1', '-p', String(port)])]);
    // smbclient -M exits 0 even when sending fails: its stderr says so
    assert.equal(toSmbd.stderr, '', `smbclient to smbd (${charset})`);
    assert.equal(toNetsend.stderr, '', `smbclient to netsend (${charset})`);
    const file = new RegExp(`^msg-${user}-\\d+\\.txt$`);
    const smbdText = await poll(async () => {
      const name = (await readdir(smbd.inbox)).find((f) => file.test(f));
      return name === undefined ? undefined : readFile(join(smbd.inbox, name), 'utf8');
    }, `smbd (${charset}) to deliver the message from ${user}`);
    const netsendText = await poll(async () => {
      const lines = (await netsend.cli(['inbox', '--json'])).stdout.trim().split('\n').filter(Boolean);
      return lines.map((line) => JSON.parse(line) as { from: string; text: string }).find((m) => m.from === user.toUpperCase())?.text;
    }, `netsend (${charset}) to store the message from ${user}`);
    return { smbd: smbdText, netsend: netsendText };
  }

  for (const [charset, { texts }] of Object.entries(CORPUS)) {
    test(`${charset}: the corpus arrives as typed, at smbd and at netsend alike`, async () => {
      for (const text of texts) assert.deepEqual(await sendToBoth(charset, text), { smbd: text, netsend: text }, JSON.stringify(text));
    });
  }

  test('CP850: "Price 5€" goes raw UTF-8; smbd shows it in CP850 ("Price 5Ôé¼"), netsend reads the UTF-8 (by design)', async () => {
    assert.deepEqual(await sendToBoth('CP850', 'Price 5€'), { smbd: 'Price 5Ôé¼', netsend: 'Price 5€' });
  });

  test('CP866: "😀 ok" goes raw UTF-8 and reads as plausible CP866 ("ЁЯША ok"): a tie, so netsend shows what smbd shows', async () => {
    assert.deepEqual(await sendToBoth('CP866', '😀 ok'), { smbd: 'ЁЯША ok', netsend: 'ЁЯША ok' });
  });

  test('CP1252: "Tōkyō, Ő" goes raw UTF-8 with bytes CP1252 does not define (8D, 90): smbd stores an empty text, netsend the UTF-8', async () => {
    // smbd logs "Conversion failed, delivering message in DOS codepage format" and then writes
    // the converted length, which convert_string_talloc left at 0: nothing (Samba 4.17)
    assert.deepEqual(await sendToBoth('CP1252', 'Tōkyō, Ő'), { smbd: '', netsend: 'Tōkyō, Ő' });
  });

  test('CP866: a text past 127 bytes whose blocks cut a character is sent part CP866, part raw UTF-8; both store the same', async () => {
    const text = 'Съешь же ещё этих мягких французских булок, да выпей чаю. '.repeat(3).trim();
    const { smbd, netsend } = await sendToBoth('CP866', text);
    assert.equal(netsend, smbd);
    assert.notEqual(smbd, text, 'smbclient sent blocks cut mid-character raw, and smbd shows them in CP866');
  });
});

/** Polls `read` every 50 ms until it gives a value, for at most `timeoutMs`. */
async function poll<T>(read: () => Promise<T | undefined>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
