/**
 * The package as a user gets it: `npm pack`, `npm install -g` of the tarball into a temporary
 * prefix, then the installed `netsend` and `sendnetmsg` run from an unrelated directory.
 *
 * The rest of the suite runs the checkout, which cannot show what only the package shows: a
 * file left out of "files", a native addon that builds only with the checkout's dev tree,
 * "overrides" that do not travel with the package (they apply to the root project only, so a
 * user's install resolves the versions they pinned away, with engine warnings), a bin that finds
 * its files only from the repository root. The commands and their (trimmed) output are written
 * to test-artifacts/global-install.txt, the transcript the release notes quote.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { killOnExit } from '../helpers/children.js';
import { tempDataDir, type CommandResult } from '../helpers/daemon.js';

const MINUTE = 60_000;
const npmVersion = spawnSync('npm', ['--version'], { encoding: 'utf8' });
const NO_NPM = npmVersion.status === 0 ? false : 'npm is not on PATH: cannot pack and install the package';

/** The repository root: the nearest folder above this file holding netsend's package.json (dist/test/… or build-*\/test/…). */
function repoRoot(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; ) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'netsend') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`no netsend package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

/**
 * The environment of a user's shell: without the npm_* variables `npm test` hands its scripts, and
 * without the node_modules/.bin folders it puts on PATH (the checkout's dev tools, node-gyp among them).
 */
function userEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv & { PATH: string } {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.toLowerCase().startsWith('npm_')));
  const path = (process.env.PATH ?? '').split(':').filter((dir) => dir !== '' && !dir.includes('/node_modules/')).join(':');
  return { ...env, ...extra, PATH: extra.PATH ?? path };
}

/** Runs `argv` in `cwd` to the end, SIGKILLed after `timeoutMs`. */
function exec(argv: readonly string[], options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number }): Promise<CommandResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(argv[0] as string, argv.slice(1), { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'], timeout: options.timeoutMs, killSignal: 'SIGKILL' });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolvePromise({ code, signal, stdout, stderr }));
  });
}

/** Why a command failed, for an assertion message: its exit and the end of its output. */
const failure = (result: CommandResult) => `exit ${result.code ?? result.signal}\n${trim(result.stdout + result.stderr, 0, 40)}`;

/** The first `head` and last `tail` lines of `text`, each cut at 300 characters. */
function trim(text: string, head = 15, tail = 25): string {
  const lines = text.replace(/\n$/, '').split('\n').map((line) => (line.length > 300 ? `${line.slice(0, 300)} …` : line));
  if (lines.length <= head + tail) return lines.join('\n');
  return [...lines.slice(0, head), `… (${lines.length - head - tail} lines left out)`, ...lines.slice(-tail)].join('\n');
}

describe('the npm package, installed globally', { skip: NO_NPM }, () => {
  const root = repoRoot();
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  let tmp = '';
  let prefix = '';
  let elsewhere = '';
  let tarball: string | undefined;
  let installed = false;
  const transcript: string[] = [];

  /** Adds a command and its result to the transcript, with the temp folder shown as $TMP. */
  function record(command: string, result: CommandResult | string, seconds?: number): void {
    const lines = [`$ ${command}`];
    if (typeof result === 'string') lines.push(result);
    else {
      if (result.stdout.trim()) lines.push(trim(result.stdout));
      if (result.stderr.trim()) lines.push(trim(result.stderr));
      lines.push(`[exit ${result.code ?? result.signal}${seconds === undefined ? '' : `, ${seconds.toFixed(1)} s`}]`);
    }
    transcript.push(tmp ? lines.join('\n').replaceAll(tmp, '$TMP') : lines.join('\n'), '');
  }

  /** Runs an installed command the way a user would: by name, through PATH, from an unrelated folder. */
  async function user(argv: readonly string[], timeoutMs = 30_000): Promise<CommandResult> {
    if (!transcript.includes('$ cd $TMP/elsewhere && export PATH=$TMP/prefix/bin:$PATH')) transcript.push('$ cd $TMP/elsewhere && export PATH=$TMP/prefix/bin:$PATH', '');
    const started = Date.now();
    const result = await exec(argv, { cwd: elsewhere, env: userEnv({ PATH: `${prefix}/bin:${userEnv().PATH}` }), timeoutMs });
    record(argv.map((a) => (/^[\w./$:=-]+$/.test(a) ? a : JSON.stringify(a))).join(' '), result, (Date.now() - started) / 1000);
    return result;
  }

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'netsend-pkg-'));
    prefix = join(tmp, 'prefix');
    elsewhere = join(tmp, 'elsewhere');
    await mkdir(elsewhere);
    transcript.push(
      `# netsend ${version}: npm pack, then npm install -g into a temporary prefix, then the installed commands from another folder`,
      `# ${new Date().toISOString()}; node ${process.version}; npm ${npmVersion.stdout.trim()}; ${process.platform}-${process.arch}; TMP=${tmp}`,
      '',
    );
  });

  after(async () => {
    await mkdir(join(root, 'test-artifacts'), { recursive: true });
    await writeFile(join(root, 'test-artifacts', 'global-install.txt'), `${transcript.join('\n')}\n`);
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  test('npm pack ships the compiled CLI, the web page and the addon source, and no test files', { timeout: 5 * MINUTE }, async () => {
    // dist/ is what this run compiled (npm test builds before it tests): --ignore-scripts keeps npm
    // pack's "prepare" (tsc) from rewriting it under the test files that run beside this one
    const started = Date.now();
    const result = await exec(['npm', 'pack', '--ignore-scripts', '--json', '--pack-destination', tmp], { cwd: root, env: userEnv(), timeoutMs: 4 * MINUTE });
    assert.equal(result.code, 0, failure(result));
    const [pack] = JSON.parse(result.stdout) as Array<{ filename: string; size: number; unpackedSize: number; files: Array<{ path: string }> }>;
    assert.ok(pack, result.stdout);
    const paths = pack.files.map((f) => f.path);
    const outsideDist = paths.filter((p) => !p.startsWith('dist/')).sort();
    record(
      `cd ${root} && npm pack --ignore-scripts --json --pack-destination $TMP`,
      [
        trim(result.stderr),
        `(stdout: JSON) ${pack.filename}: ${paths.length} files, ${(pack.size / 1024).toFixed(0)} kB packed, ${(pack.unpackedSize / 1024).toFixed(0)} kB unpacked`,
        `  ${paths.filter((p) => p.startsWith('dist/src/')).length} under dist/src/; the others: ${outsideDist.join(', ')}`,
        `[exit ${result.code}, ${((Date.now() - started) / 1000).toFixed(1)} s]`,
      ].join('\n'),
    );

    for (const needed of ['package.json', 'dist/src/cli/netsend.js', 'dist/src/cli/sendnetmsg.js', 'dist/src/lib/index.js', 'dist/src/lib/index.d.ts', 'binding.gyp', 'native/peercred.c', 'web/index.html']) {
      assert.ok(paths.includes(needed), `${needed} is not in the package`);
    }
    assert.deepEqual(paths.filter((p) => /\.test\.[^/]*$/.test(p) || /^dist\/(test|bench)\//.test(p)), [], 'tests are not shipped');
    assert.deepEqual(paths.filter((p) => /^build\//.test(p) || p.endsWith('.node')), [], 'no prebuilt addon from this machine');

    // every relative import of a shipped module is shipped too (nothing it needs was left out by "files")
    const missing: string[] = [];
    for (const file of paths.filter((p) => p.endsWith('.js'))) {
      const source = readFileSync(join(root, file), 'utf8');
      for (const [, specifier] of source.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
        const target = join(dirname(file), specifier as string);
        if (!paths.includes(target)) missing.push(`${file} imports ${specifier}`);
      }
    }
    assert.deepEqual(missing, [], 'imports of files that are not in the package');
    tarball = join(tmp, pack.filename);
  });

  test('npm install -g of the tarball builds both native addons, without engine warnings', { timeout: 9 * MINUTE }, async (t) => {
    if (tarball === undefined) return t.skip('npm pack failed');
    // node-gyp builds our peercred addon (and better-sqlite3 when no prebuilt binary is at hand)
    // against the running Node's own headers, where it has them (/usr for Debian's nodejs)
    const nodedir = resolve(process.execPath, '../..');
    const env = existsSync(join(nodedir, 'include/node/node.h')) ? { npm_config_nodedir: nodedir } : {};
    const argv = ['npm', 'install', '-g', '--prefix', prefix, tarball, '--prefer-offline', '--no-audit', '--no-fund'];
    const started = Date.now();
    const result = await exec(argv, { cwd: tmp, env: userEnv(env), timeoutMs: 8 * MINUTE });
    record(`cd $TMP && ${Object.entries(env).map(([k, v]) => `${k}=${v} `).join('')}${argv.join(' ')}`, result, (Date.now() - started) / 1000);
    assert.equal(result.code, 0, `npm install -g failed: ${failure(result)}`);
    installed = true;

    const output = result.stdout + result.stderr;
    const engines = [...output.matchAll(/EBADENGINE\s+package: '([^']+)',\n.*required: \{ node: '([^']+)'/g)].map(([, pkg, range]) => `${pkg} requires node ${range}`);
    assert.doesNotMatch(output, /EBADENGINE|Unsupported engine/i, `engine warnings: ${engines.join('; ')}`);
    const installedAt = join(prefix, 'lib', 'node_modules', 'netsend');
    assert.ok(existsSync(join(installedAt, 'build', 'Release', 'peercred.node')), 'the peercred addon was built');
    assert.ok(existsSync(join(prefix, 'bin', 'netsend')) && existsSync(join(prefix, 'bin', 'sendnetmsg')), 'both commands are on the prefix bin');
  });

  test('netsend --version, from another folder, prints the package version', { timeout: MINUTE }, async (t) => {
    if (!installed) return t.skip('the global install failed');
    const result = await user(['netsend', '--version']);
    assert.equal(result.code, 0, failure(result));
    assert.equal(result.stdout, `netsend ${version}\n`);
  });

  test('sendnetmsg with no arguments prints its usage on stderr and exits 2', { timeout: MINUTE }, async (t) => {
    if (!installed) return t.skip('the global install failed');
    const result = await user(['sendnetmsg']);
    assert.deepEqual(result, { code: 2, signal: null, stdout: '', stderr: 'usage: sendnetmsg [--data-dir DIR] [--host IP[:PORT]] srcName dstName message\n' });
  });

  test('netsend serve runs from the install; netsend send and sendnetmsg deliver to it and netsend inbox shows the messages', { timeout: 3 * MINUTE }, async (t) => {
    if (!installed) return t.skip('the global install failed');
    const data = await tempDataDir();
    let daemon: ChildProcess | undefined;
    let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;
    let log = '';
    let startLog = '';
    let stopped: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    try {
      // every network listener off: only the control socket in the data dir
      const args = ['serve', '--data-dir', data.dir, '--smb-ports', '0', '--nbt-port', '0', '--dgram-port', '0', '--secure-port', '0', '--http-port', '0', '--terminal', 'no', '--tty-messages', 'no', '--desktop-notifications', 'no'];
      // bin/netsend is a symlink to the JS file, whose `#!/usr/bin/env node` execs node: this PID is the daemon's
      const child = spawn(join(prefix, 'bin', 'netsend'), args, { cwd: elsewhere, env: userEnv({ PATH: `${prefix}/bin:${userEnv().PATH}`, NETSEND_NETBIOS_NAME: 'PKGTEST' }), stdio: ['ignore', 'ignore', 'pipe'] });
      killOnExit(child);
      daemon = child;
      exited = new Promise((resolvePromise) => {
        child.on('exit', (code, signal) => resolvePromise({ code, signal }));
        child.on('error', (error) => {
          log += `could not start: ${error.message}\n`;
          resolvePromise({ code: null, signal: null });
        });
      });
      child.stderr.setEncoding('utf8').on('data', (d: string) => (log += d));
      const deadline = Date.now() + 30_000;
      while (!log.includes('Messenger service started')) {
        if (child.exitCode !== null || child.signalCode !== null) assert.fail(`the daemon exited (${child.exitCode ?? child.signalCode}):\n${log}`);
        if (Date.now() > deadline) assert.fail(`the daemon did not start in 30 s:\n${log}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      if (existsSync(`/proc/${child.pid}/cmdline`)) {
        assert.match(readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').replaceAll('\0', ' '), /node .*netsend.* serve /, 'the PID to stop is the daemon');
      }
      startLog = log;
      record(`netsend ${args.join(' ')} &   # NETSEND_NETBIOS_NAME=PKGTEST; pid ${child.pid}`, `${trim(startLog)}\n[started]`);
      assert.doesNotMatch(log, /peer credentials are unavailable/, 'the installed peercred addon loads');

      const sent = await user(['netsend', 'send', 'PKGTEST', 'hello', '--data-dir', data.dir]);
      assert.equal(sent.code, 0, failure(sent));
      assert.match(sent.stdout, /^The message was successfully sent to PKGTEST\.\nIts id is 1: `netsend receipt 1` tells what becomes of it\.\n$/);
      const classic = await user(['sendnetmsg', 'BOB', 'PKGTEST', 'hi from sendnetmsg', '--data-dir', data.dir]);
      assert.equal(classic.code, 0, failure(classic));

      const inbox = await user(['netsend', 'inbox', '--data-dir', data.dir]);
      assert.equal(inbox.code, 0, failure(inbox));
      const verified = `\\(verified: sent by the local account ${userInfo().username}\\)`;
      assert.match(inbox.stdout, new RegExp(`Message from PKGTEST to PKGTEST on .+ {2}\\[id 1\\]\n${verified}\n\nhello\n`));
      assert.match(inbox.stdout, new RegExp(`Message from BOB to PKGTEST on .+ {2}\\[id 2\\]\n${verified}\n\nhi from sendnetmsg\n`));
    } finally {
      // stopped by its PID whatever happened above, and waited for (SIGKILL after 15 s)
      if (daemon !== undefined && exited !== undefined) {
        if (daemon.exitCode === null && daemon.signalCode === null) daemon.kill('SIGTERM');
        const timer = setTimeout(() => daemon?.kill('SIGKILL'), 15_000);
        stopped = await exited;
        clearTimeout(timer);
        record(`kill -TERM ${daemon.pid}   # the daemon's further output:`, { ...stopped, stdout: '', stderr: log.slice(startLog.length) });
      }
      await data.cleanup();
    }
    assert.deepEqual(stopped, { code: 0, signal: null }, `the daemon stops cleanly on SIGTERM:\n${log}`);
  });
});
