/**
 * The systemd units shipped in the npm package (systemd/netsend.service for the host,
 * systemd/user/netsend.service for one user): `systemd-analyze verify` finds nothing wrong in
 * either, and the hardening a sysadmin expects is there, no more privilege than the daemon needs.
 * docs/install.md says why each line is there.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { NETSEND_BIN, daemonNodeFlags } from '../helpers/daemon.js';

/** From dist/test/packaging/ back to the checkout. */
const ROOT = new URL('../../../', import.meta.url);
const SYSTEM_UNIT = fileURLToPath(new URL('systemd/netsend.service', ROOT));
const USER_UNIT = fileURLToPath(new URL('systemd/user/netsend.service', ROOT));
/** The compiled CLI beside this compiled test: what `netsend` runs once installed. */
const CLI = fileURLToPath(new URL('../../src/cli/netsend.js', import.meta.url));
/** Where `npm install -g` (prefix /usr/local) puts the `netsend` bin the units start. */
const INSTALLED_BIN = '/usr/local/bin/netsend';

/** Each section's keys, and each key's values in file order (a key may come more than once). */
type Unit = Map<string, Map<string, string[]>>;

function parseUnit(text: string): Unit {
  const unit: Unit = new Map();
  let section: Map<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header !== null) {
      section = unit.get(header[1] as string) ?? new Map<string, string[]>();
      unit.set(header[1] as string, section);
      continue;
    }
    const eq = line.indexOf('=');
    assert.ok(section !== undefined && eq > 0, `not a unit file line: ${line}`);
    const key = line.slice(0, eq).trim();
    section.set(key, [...(section.get(key) ?? []), line.slice(eq + 1).trim()]);
  }
  return unit;
}

/** The one value of a key, or undefined when it is not set. */
function value(unit: Unit, section: string, key: string): string | undefined {
  const values = unit.get(section)?.get(key);
  if (values === undefined) return undefined;
  assert.equal(values.length, 1, `[${section}] ${key}= is set ${values.length} times`);
  return values[0];
}

/** Every word of a list-valued key over all its lines ("A B", "C" → A, B, C). */
function words(unit: Unit, section: string, key: string): string[] {
  return (unit.get(section)?.get(key) ?? []).flatMap((v) => v.split(/\s+/).filter((w) => w !== ''));
}

/** ExecStart= as words (the units use no quoting). */
function execStart(unit: Unit): string[] {
  return (value(unit, 'Service', 'ExecStart') ?? '').split(/\s+/);
}

/** The data dir ExecStart gives the daemon, or undefined for the daemon's own default. */
function dataDirOf(argv: readonly string[]): string | undefined {
  const at = argv.indexOf('--data-dir');
  return at < 0 ? undefined : argv[at + 1];
}

const systemdAnalyzeMissing = (): string | null =>
  spawnSync('systemd-analyze', ['--version']).error === undefined ? null : 'systemd-analyze is not installed (scripts/install-peers.sh installs systemd)';

/** One argument of an Exec line: specifiers (%) and variables ($) escaped, quoted if it has blanks. */
function execArgument(word: string): string {
  const escaped = word.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%').replace(/\$/g, '$$$$');
  return /\s/.test(escaped) ? `"${escaped}"` : escaped;
}

/**
 * Runs `systemd-analyze verify` on a copy of the unit; fails on anything it says about the unit.
 *
 * verify checks that ExecStart's program exists and is executable, and /usr/local/bin/netsend is
 * there only after `npm install -g`. So the copy (same file name: verify names the unit after it)
 * runs the same `serve …` arguments with this checkout's compiled CLI, by the node that runs the
 * tests: what the installed bin does (its shebang is `#!/usr/bin/env node`). Nothing else changes.
 *
 * systemd need not be PID 1: verify loads the units into a manager of its own that runs nothing.
 * A user unit's (`--user`) manager wants XDG_RUNTIME_DIR: a fresh temp dir is given. --man=no: no
 * man page lookups. verify exits 0 even after a warning (an unknown key, a value it could not
 * parse, "ignoring"), so its output is read too; lines about other units (verify also loads the
 * host's units this one depends on) are only reported as diagnostics.
 */
async function verify(t: TestContext, unitPath: string, scope: 'system' | 'user'): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'netsend-systemd-'));
  try {
    const text = await readFile(unitPath, 'utf8');
    const program = `ExecStart=${INSTALLED_BIN} `;
    assert.ok(text.includes(`\n${program}`), `${unitPath} starts ${INSTALLED_BIN}`);
    const copy = join(dir, 'netsend.service');
    await writeFile(copy, text.replace(`\n${program}`, () => `\nExecStart=${execArgument(process.execPath)} ${execArgument(CLI)} `));
    const result = spawnSync('systemd-analyze', [...(scope === 'user' ? ['--user'] : []), 'verify', '--man=no', copy], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 60_000,
      env: {
        ...process.env,
        SYSTEMD_LOG_LEVEL: 'info',
        SYSTEMD_LOG_TARGET: 'console',
        SYSTEMD_LOG_COLOR: '0',
        ...(scope === 'user' ? { XDG_RUNTIME_DIR: dir } : {}),
      },
    });
    assert.equal(result.error, undefined, `systemd-analyze did not run: ${String(result.error)}`);
    const lines = `${result.stdout}\n${result.stderr}`.split('\n').filter((line) => line.trim() !== '');
    const about = lines.filter((line) => line.includes(dir) || line.includes('netsend'));
    for (const line of lines.filter((l) => !about.includes(l))) t.diagnostic(`about another unit: ${line}`);
    assert.deepEqual(about, [], `systemd-analyze verify found problems in ${unitPath}`);
    assert.equal(result.status, 0, `systemd-analyze verify exited ${result.status ?? result.signal}:\n${lines.join('\n')}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The sandboxing both units apply (a user's systemd can apply these by itself). */
const BOTH_UNITS: Record<string, string> = {
  NoNewPrivileges: 'yes',
  LockPersonality: 'yes',
  RestrictRealtime: 'yes',
  RestrictSUIDSGID: 'yes',
  RestrictNamespaces: 'yes',
  SystemCallArchitectures: 'native',
  SystemCallErrorNumber: 'EPERM',
  UMask: '0077',
};

/** The socket families and system calls both units allow. */
function assertFilters(unit: ReturnType<typeof parseUnit>): void {
  // AF_NETLINK: getifaddrs(), which the address watcher reads the host's addresses with
  assert.deepEqual(words(unit, 'Service', 'RestrictAddressFamilies').sort(), ['AF_INET', 'AF_INET6', 'AF_NETLINK', 'AF_UNIX']);
  // @system-service less privileged calls and resource changes (setuid() too: desktops are the system unit's drop-in)
  assert.deepEqual(unit.get('Service')?.get('SystemCallFilter'), ['@system-service', '~@privileged @resources']);
}

describe('the system unit, systemd/netsend.service', () => {
  test('systemd-analyze verify finds no problem in it', { skip: systemdAnalyzeMissing() ?? false, timeout: 90_000 }, async (t) => {
    await verify(t, SYSTEM_UNIT, 'system');
  });

  test('runs `netsend serve` on its StateDirectory, as root cut down to CAP_NET_BIND_SERVICE alone', async () => {
    const unit = parseUnit(await readFile(SYSTEM_UNIT, 'utf8'));
    const argv = execStart(unit);
    assert.deepEqual(argv.slice(0, 2), [INSTALLED_BIN, 'serve']);
    assert.equal(value(unit, 'Service', 'StateDirectory'), 'netsend');
    // root's default data dir, and the one the docs tell local users to name
    assert.equal(dataDirOf(argv), '/var/lib/netsend', 'the data dir is the StateDirectory');
    // local users reach control.sock in it
    assert.equal(value(unit, 'Service', 'StateDirectoryMode'), '0755');
    // root (no User=): a root daemon serves every local user and reaches their terminals and desktops
    assert.equal(value(unit, 'Service', 'User'), undefined);
    assert.equal(value(unit, 'Service', 'DynamicUser'), undefined);
    // ports 137-139 and nothing else; other users' desktops are an administrator's drop-in (docs/install.md)
    assert.deepEqual(words(unit, 'Service', 'CapabilityBoundingSet'), ['CAP_NET_BIND_SERVICE']);
    assert.equal(value(unit, 'Service', 'AmbientCapabilities'), undefined);
    // other users' terminals through group tty, as write(1), not through a capability
    assert.deepEqual(words(unit, 'Service', 'SupplementaryGroups'), ['tty']);
    assert.equal(value(unit, 'Install', 'WantedBy'), 'multi-user.target');
  });

  test('is sandboxed: read-only system, private /tmp, no new privileges, few address families and system calls', async () => {
    const unit = parseUnit(await readFile(SYSTEM_UNIT, 'utf8'));
    const expected: Record<string, string> = {
      ProtectSystem: 'strict',
      // not yes or tmpfs: the users' session buses are under /run/user
      ProtectHome: 'read-only',
      PrivateTmp: 'yes',
      DevicePolicy: 'closed',
      ProtectKernelTunables: 'yes',
      ProtectKernelModules: 'yes',
      ProtectKernelLogs: 'yes',
      ProtectControlGroups: 'yes',
      ProtectClock: 'yes',
      ProtectHostname: 'yes',
      ProtectProc: 'invisible',
      ProcSubset: 'pid',
      PrivateMounts: 'yes',
      ...BOTH_UNITS,
    };
    for (const [key, want] of Object.entries(expected)) assert.equal(value(unit, 'Service', key), want, `${key}=`);
    assertFilters(unit);
    // it writes nowhere but its StateDirectory (and its private /tmp)
    assert.equal(value(unit, 'Service', 'ReadWritePaths'), undefined);
    // the terminals utmp names, and no other device
    assert.deepEqual(words(unit, 'Service', 'DeviceAllow'), ['char-pts', 'rw', 'char-tty', 'rw', '/dev/console', 'rw']);
    // V8's JIT needs writable executable memory
    assert.equal(value(unit, 'Service', 'MemoryDenyWriteExecute'), undefined);
  });
});

describe('the user unit, systemd/user/netsend.service', () => {
  test('systemd-analyze --user verify finds no problem in it', { skip: systemdAnalyzeMissing() ?? false, timeout: 90_000 }, async (t) => {
    await verify(t, USER_UNIT, 'user');
  });

  test("runs `netsend serve` on the user's default data dir, with the sandboxing a user's systemd can apply", async () => {
    const unit = parseUnit(await readFile(USER_UNIT, 'utf8'));
    const argv = execStart(unit);
    assert.deepEqual(argv, [INSTALLED_BIN, 'serve']);
    // no --data-dir: $XDG_DATA_HOME/netsend, where the user's own `netsend` commands look
    assert.equal(dataDirOf(argv), undefined);
    for (const [key, want] of Object.entries(BOTH_UNITS)) assert.equal(value(unit, 'Service', key), want, `${key}=`);
    assertFilters(unit);
    // A user manager sets these up only inside a user namespace, which some hosts refuse (the
    // unit would then not start); capabilities it has none of.
    for (const key of ['ProtectSystem', 'ProtectHome', 'PrivateTmp', 'PrivateUsers', 'PrivateDevices', 'CapabilityBoundingSet', 'MemoryDenyWriteExecute']) {
      assert.equal(value(unit, 'Service', key), undefined, `${key}= in the user unit`);
    }
    assert.equal(value(unit, 'Install', 'WantedBy'), 'default.target');
  });
});

test('the npm package ships both units, and they start the bin it installs', async () => {
  const pkg = JSON.parse(await readFile(fileURLToPath(new URL('package.json', ROOT)), 'utf8')) as { files: string[]; bin: Record<string, string> };
  assert.ok(pkg.files.includes('systemd'), 'package.json "files" lists systemd');
  assert.equal(pkg.bin.netsend, 'dist/src/cli/netsend.js', 'npm links <prefix>/bin/netsend to the CLI');
});

test('npm start gives the daemon its node flag, and the tests\' and benchmarks\' daemons get the same', async () => {
  const pkg = JSON.parse(await readFile(fileURLToPath(new URL('package.json', ROOT)), 'utf8')) as { scripts: Record<string, string> };
  assert.equal(pkg.scripts.start, 'node --max-semi-space-size=1 dist/src/cli/netsend.js serve');
  assert.deepEqual(daemonNodeFlags(), ['--max-semi-space-size=1']);
  // the bin keeps a first line every env understands (BusyBox's has no -S)
  assert.equal((await readFile(NETSEND_BIN, 'utf8')).split('\n', 1)[0], '#!/usr/bin/env node');
});
