/**
 * The README's ntfy example, run as a user pastes it: its two shell blocks, in bash, with the
 * real `netsend` CLI and real curl, against a fresh daemon. Only the web inbox's port (8139 in the
 * README; a free one here) and the data dir (NETSEND_DATA_DIR) differ from a fresh install.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DaemonProcess, NETSEND_BIN, freePort, runCommand, tempDataDir } from '../helpers/daemon.js';

const README = fileURLToPath(new URL('../../../README.md', import.meta.url));

/** The shell blocks of the README's ntfy example: the one-time setup, then the publish. */
async function ntfyBlocks(): Promise<string[]> {
  const readme = await readFile(README, 'utf8');
  const section = readme.slice(readme.indexOf('**ntfy-compatible publish**'));
  const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].slice(0, 2).map((m) => m[1] as string);
  assert.equal(blocks.length, 2, 'the README shows the setup and the publish as two sh blocks');
  return blocks;
}

const curlMissing = (() => {
  try {
    execFileSync('curl', ['--version'], { stdio: 'ignore' });
    return false;
  } catch {
    return 'curl is not installed';
  }
})();

describe("the README's ntfy example, pasted", { skip: curlMissing }, () => {
  let daemon: DaemonProcess;
  let data: { dir: string; cleanup: () => Promise<void> };
  let home: { dir: string; cleanup: () => Promise<void> };
  let port: number;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    data = await tempDataDir();
    home = await tempDataDir();
    port = await freePort();
    daemon = await DaemonProcess.start(data.dir, ['--smb-ports', '0', '--nbt-port', '0', '--dgram-port', '0', '--terminal', 'no'], { env: { NETSEND_HTTP_PORT: String(port) } });
    // `netsend` on PATH, as a global install puts it there
    const bin = join(home.dir, 'bin');
    execFileSync('mkdir', ['-p', bin]);
    await writeFile(join(bin, 'netsend'), `#!/bin/sh\nexec "${process.execPath}" "${NETSEND_BIN}" "$@"\n`);
    await chmod(join(bin, 'netsend'), 0o755);
    env = { HOME: home.dir, USER: userInfo().username, PATH: `${bin}:${process.env.PATH ?? ''}`, NETSEND_DATA_DIR: data.dir };
  });

  after(async () => {
    await daemon?.stop();
    await data?.cleanup();
    await home?.cleanup();
  });

  const bash = (script: string) => runCommand(['bash', '-euo', 'pipefail', '-c', script.replaceAll('127.0.0.1:8139', `127.0.0.1:${port}`)], { env, timeoutMs: 20_000 });

  test('the setup makes the account and keeps its token; each publish reuses it and arrives with its title and priority', async () => {
    const [setup, publish] = await ntfyBlocks();
    const made = await bash(setup as string);
    assert.equal(made.code, 0, made.stderr);
    for (const run of [1, 2]) {
      const sent = await bash(`${(publish as string).trim()} -sS -w '\\n%{http_code}'`);
      assert.equal(sent.code, 0, sent.stderr);
      const [body, status] = sent.stdout.trim().split('\n');
      assert.equal(status, '200', `run ${run}: ${body}`);
      assert.deepEqual(
        (({ event, message, title, priority }) => ({ event, message, title, priority }))(JSON.parse(body as string) as Record<string, unknown>),
        { event: 'message', message: 'backup failed on db1', title: 'Backup', priority: 4 },
      );
    }
    const tokens = await daemon.cli(['user', 'tokens', 'monitor', '--json']);
    assert.equal((JSON.parse(tokens.stdout) as unknown[]).length, 1, 'one token, made once and reused');
    const inbox = (await daemon.cli(['inbox', '--json'])).stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.deepEqual(
      inbox.map(({ to, title, text, priority }) => ({ to, title, text, priority })),
      Array(2).fill({ to: userInfo().username.toUpperCase(), title: 'Backup', text: 'backup failed on db1', priority: 'high' }),
    );
    const shown = await daemon.cli(['inbox']);
    assert.match(shown.stdout, /^IMPORTANT Message from \S+ to \S+ on .+ {2}\[id 1\]\n\(verified: sent by the account monitor, by a remote call\)\nTitle: Backup\n\nbackup failed on db1\n/);
  });

  test("JSON to the root URL, as the README's last line says, with curl's default form Content-Type", async () => {
    const token = (await readFile(join(home.dir, '.netsend-monitor.token'), 'utf8')).trim();
    const json = JSON.stringify({ topic: userInfo().username, message: 'disk full', title: 'Grüße 🍕', priority: 5, tags: ['warning'] });
    const sent = await runCommand(['curl', '-sS', '-w', '\n%{http_code}', '-H', `Authorization: Bearer ${token}`, '-d', json, `http://127.0.0.1:${port}/`], { timeoutMs: 10_000 });
    const [body, status] = sent.stdout.trim().split('\n');
    assert.equal(status, '200', body);
    const last = JSON.parse((await daemon.cli(['inbox', '--json'])).stdout.trim().split('\n').at(-1) as string) as Record<string, unknown>;
    assert.deepEqual([last.title, last.text, last.priority], ['Grüße 🍕', 'disk full', 'urgent']);
    const noTopic = await runCommand(['curl', '-sS', '-w', '\n%{http_code}', '-H', `Authorization: Bearer ${token}`, '-d', '{"message":"x"}', `http://127.0.0.1:${port}/`], { timeoutMs: 10_000 });
    const [refusal, refusedStatus] = noTopic.stdout.trim().split('\n');
    assert.equal(refusedStatus, '400');
    assert.match((JSON.parse(refusal as string) as { message: string }).message, /^"topic" is missing: the alias to send to/);
  });
});
