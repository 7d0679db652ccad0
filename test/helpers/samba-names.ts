import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCommand } from './daemon.js';
import { LoopbackNamespace, waitUntil } from './netns.js';
import { clientStateLines } from './samba.js';

/**
 * A listener on 127.0.0.1:137 that prints each question's raw 15-byte name (hex, padding
 * included) and scope (hex) as a JSON line and answers it "no such name" (RCODE 3), so the
 * asking nmblookup moves on at once. Runs inside a test namespace.
 */
const RECORDER = `
const s = require('dgram').createSocket('udp4');
s.on('message', (m, r) => {
  let o = 12;
  const raw = [];
  for (let i = 0; i < 16; i++) raw.push(((m[o + 1 + 2 * i] - 65) << 4) | (m[o + 2 + 2 * i] - 65));
  o += 33;
  const scope = [];
  while (m[o] !== 0) { scope.push(m.subarray(o + 1, o + 1 + m[o]).toString('hex')); o += 1 + m[o]; }
  console.log(JSON.stringify({ name: Buffer.from(raw.slice(0, 15)).toString('hex'), suffix: raw[15], scope: scope.join('2e') }));
  const header = Buffer.alloc(12);
  m.copy(header, 0, 0, 2);
  header.writeUInt16BE(0x8503, 2); // response, authoritative, RCODE 3 (NAM_ERR)
  header.writeUInt16BE(1, 6); // one answer: the name, type NULL, TTL 0, no data
  s.send(Buffer.concat([header, m.subarray(12, o + 1), Buffer.from([0, 0x0a, 0, 1, 0, 0, 0, 0, 0, 0])]), r.port, r.address);
});
s.bind(137, '127.0.0.1', () => console.log('ready'));
setTimeout(() => process.exit(0), 60000);
`;

/** What nmblookup put on the wire for one name it was given. */
export interface SambaWireName {
  /** The 15 name bytes without their space padding (hex); '' when Samba could not convert the name. */
  readonly name: string;
  readonly scope: string;
}

/**
 * Samba's own rule for names, observed: `nmblookup` (its `make_nmb_name`: upper-case the unix
 * string per code point, push it to the dos charset) asks a recorder for each of `names`, and the
 * bytes it sent come back, in order. `charset` is the `dos charset`; `scope` the `netbios scope`.
 */
export async function sambaWireNames(dir: string, charset: string, names: readonly string[], scope = ''): Promise<SambaWireName[]> {
  await mkdir(dir, { recursive: true });
  const conf = join(dir, 'client.conf');
  await writeFile(conf, `[global]\n  netbios name = ORACLE\n  dos charset = ${charset}\n  unix charset = UTF-8\n  name resolve order = bcast\n  interfaces = lo\n  log level = 0\n${scope === '' ? '' : `  netbios scope = ${scope}\n`}${clientStateLines(join(dir, 'state'))}`);
  const ns = LoopbackNamespace.create();
  const recorder = spawn(ns.prefix[0] as string, [...ns.prefix.slice(1), process.execPath, '-e', RECORDER], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  recorder.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise((resolve) => recorder.once('exit', resolve));
  try {
    await waitUntil(() => out.startsWith('ready'), 10_000, 'the name recorder');
    // nmblookup takes many names; '#03' asks for the messenger suffix, as `net send` would.
    const asked = await runCommand([...ns.prefix, 'timeout', '-k', '2', '30', 'nmblookup', '-s', conf, '-U', '127.0.0.1', ...names.map((n) => `${n}#03`)], { timeoutMs: 40_000 });
    const lines = out.split('\n').slice(1).filter((l) => l.startsWith('{'));
    if (lines.length !== names.length) throw new Error(`nmblookup asked ${lines.length} names of ${names.length}:\n${asked.stdout}${asked.stderr}`);
    return lines.map((line) => {
      const { name, scope: s } = JSON.parse(line) as { name: string; scope: string };
      return { name: name.replace(/(20)+$/, ''), scope: s };
    });
  } finally {
    if (recorder.exitCode === null && recorder.signalCode === null) recorder.kill('SIGTERM');
    await exited;
    ns.destroy();
  }
}
