import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig } from './load.js';
import { interfaceSpecProblem, resolveInterfaces } from './interfaces.js';

async function withDataDir(conf: string | null, run: (dir: string) => void | Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'ns-conf-'));
  try {
    if (conf !== null) await writeFile(join(dir, 'netsend.conf'), conf);
    await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('loadConfig takes a flag over the environment over the file over the default, and freezes the result', async () => {
  await withDataDir('[global]\n  workgroup = FILEWG\n  netbios name = FILEPC\n  max aliases = 5\n', (dataDir) => {
    const config = loadConfig({ dataDir, env: { NETSEND_NETBIOS_NAME: 'ENVPC', NETSEND_MAX_ALIASES: '6' }, flags: { maxAliases: '7' } });
    assert.equal(config.maxAliases, 7);
    assert.equal(config.netbiosName, 'ENVPC');
    assert.equal(config.workgroup, 'FILEWG');
    assert.deepEqual(config.interfaces, ['lo']);
    assert.deepEqual(config.smbPorts, [139]);
    assert.deepEqual(
      { maxAliases: config.sources.maxAliases, netbiosName: config.sources.netbiosName, workgroup: config.sources.workgroup, interfaces: config.sources.interfaces },
      { maxAliases: 'flag', netbiosName: 'environment', workgroup: 'file', interfaces: 'default' },
    );
    assert.ok(Object.isFrozen(config));
    assert.throws(() => {
      (config as { workgroup: string }).workgroup = 'X';
    }, TypeError);
  });
});

test('loadConfig names the unknown key, the bad value and where it came from', async () => {
  await withDataDir('[global]\n# comment\n; another\nnetbios nmae = X\n', (dataDir) => {
    assert.throws(() => loadConfig({ dataDir, env: {} }), (e: unknown) => e instanceof ConfigError && /netsend\.conf:4: unknown setting "netbiosnmae"/.test(e.message));
  });
  await withDataDir(null, (dataDir) => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ maxAliases: '5000' }, /--max-aliases: "max aliases" = "5000" is above the maximum 1000/],
      [{ bindInterfacesOnly: 'maybe' }, /"bind interfaces only" = "maybe" is not yes or no/],
      [{ netbiosName: 'BAD*NAME' }, /"netbios name" = "BAD\*NAME" is not a valid NetBIOS name/],
      [{ dosCharset: 'CP9999' }, /"dos charset" = "CP9999" is not a code page/],
      [{ interfaces: '10.0.0.0/33' }, /not a valid IPv4 subnet/],
      [{ smbPorts: '70000' }, /is not a list of ports/],
    ];
    for (const [flags, message] of cases) assert.throws(() => loadConfig({ dataDir, env: {}, flags }), (e: unknown) => e instanceof ConfigError && message.test(e.message), JSON.stringify(flags));
    assert.deepEqual(loadConfig({ dataDir, env: {}, flags: { smbPorts: '0' } }).smbPorts, [], '--smb-port 0 turns the listener off');
  });
});

test('interfaces accept names, addresses and IPv4 subnets, and resolve against the host', () => {
  for (const ok of ['lo', 'eth0', '127.0.0.1', '10.0.0.0/8', '::1']) assert.equal(interfaceSpecProblem(ok), null, ok);
  for (const bad of ['10.0.0.0/33', '1.2.3.4/x', 'fe80::/64', 'a b']) assert.notEqual(interfaceSpecProblem(bad), null, bad);
  const host = {
    lo: [{ address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', mac: '', internal: true, cidr: null }],
    eth0: [{ address: '192.168.7.20', netmask: '255.255.255.0', family: 'IPv4', mac: '', internal: false, cidr: null }],
  } as unknown as NodeJS.Dict<import('node:os').NetworkInterfaceInfo[]>;
  assert.deepEqual(resolveInterfaces(['lo'], host).addresses.map((a) => a.address), ['127.0.0.1']);
  assert.deepEqual(resolveInterfaces(['192.168.7.0/24'], host).addresses.map((a) => a.address), ['192.168.7.20']);
  assert.deepEqual(resolveInterfaces(['eth9', '127.0.0.1'], host), {
    addresses: [{ interfaceName: 'lo', address: '127.0.0.1', family: 'IPv4', netmask: '255.0.0.0' }],
    unmatched: ['eth9'],
  });
});
