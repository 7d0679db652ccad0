/**
 * loadConfig (load.ts): precedence, provenance, the config file, validation and freezing. Every
 * test uses a temp data dir and its own env object, never process.env.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { computerNameFromHostname } from '../messenger/names.js';
import { ConfigError, loadConfig, type Config } from './load.js';
import { SETTINGS, type SettingName } from './settings.js';
import { ConfSyntaxError } from './smbconf.js';

/** Runs `run` on a fresh temp data dir holding `conf` as netsend.conf (none when null), then removes it. */
async function withDataDir(conf: string | null, run: (dir: string) => void | Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'ns-loadconf-'));
  try {
    if (conf !== null) await writeFile(join(dir, 'netsend.conf'), conf);
    await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const configError = (words: RegExp) => (e: unknown) => {
  assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${String(e)}`);
  assert.equal(e.name, 'ConfigError');
  assert.match(e.message, words);
  return true;
};

describe('loadConfig precedence and sources', () => {
  test('loadConfig takes the flag over the environment, the file and the default, setting by setting, and records each source', async () => {
    await withDataDir('[global]\nnetbios name = FILEPC\n', (dataDir) => {
      const levels: Array<[Parameters<typeof loadConfig>[0], string, Config['sources'][SettingName]]> = [
        [{ dataDir, env: { NETSEND_NETBIOS_NAME: 'ENVPC' }, flags: { netbiosName: 'FLAGPC' } }, 'FLAGPC', 'flag'],
        [{ dataDir, env: { NETSEND_NETBIOS_NAME: 'ENVPC' } }, 'ENVPC', 'environment'],
        [{ dataDir, env: {} }, 'FILEPC', 'file'],
      ];
      for (const [sources, value, source] of levels) {
        const config = loadConfig(sources);
        assert.equal(config.netbiosName, value);
        assert.equal(config.sources.netbiosName, source);
      }
    });
    await withDataDir(null, (dataDir) => {
      const config = loadConfig({ dataDir, env: {} });
      assert.equal(config.netbiosName, computerNameFromHostname(hostname()));
      assert.equal(config.sources.netbiosName, 'default');
    });
    // one load, each setting from its own level
    await withDataDir('[global]\n  workgroup = FILEWG\n  netbios name = FILEPC\n  max aliases = 5\n', (dataDir) => {
      const config = loadConfig({ dataDir, env: { NETSEND_NETBIOS_NAME: 'ENVPC', NETSEND_MAX_ALIASES: '6' }, flags: { maxAliases: '7' } });
      assert.equal(config.maxAliases, 7);
      assert.equal(config.netbiosName, 'ENVPC');
      assert.equal(config.workgroup, 'FILEWG');
      assert.deepEqual(config.interfaces, ['lo']);
      assert.deepEqual(
        { maxAliases: config.sources.maxAliases, netbiosName: config.sources.netbiosName, workgroup: config.sources.workgroup, interfaces: config.sources.interfaces },
        { maxAliases: 'flag', netbiosName: 'environment', workgroup: 'file', interfaces: 'default' },
      );
    });
  });

  test('loadConfig reads the environment object it is given, not process.env', async () => {
    const saved = process.env.NETSEND_WORKGROUP;
    process.env.NETSEND_WORKGROUP = 'PROCESSWG';
    try {
      await withDataDir(null, (dataDir) => {
        assert.equal(loadConfig({ dataDir, env: {} }).workgroup, 'WORKGROUP');
        assert.equal(loadConfig({ dataDir, env: { NETSEND_WORKGROUP: 'GIVENWG' } }).workgroup, 'GIVENWG');
      });
    } finally {
      if (saved === undefined) delete process.env.NETSEND_WORKGROUP;
      else process.env.NETSEND_WORKGROUP = saved;
    }
  });

  test('loadConfig gives the documented defaults when there is no file, flag or environment', async () => {
    await withDataDir(null, (dataDir) => {
      const config = loadConfig({ dataDir, env: {} });
      assert.equal(config.dataDir, dataDir);
      assert.equal(config.workgroup, 'WORKGROUP');
      assert.deepEqual(config.interfaces, ['lo']);
      assert.equal(config.bindInterfacesOnly, true);
      assert.equal(config.dosCharset, 'CP850');
      assert.equal(config.maxAliases, 64);
      assert.equal(config.maxMessageSize, 65536);
      assert.deepEqual(config.smbPorts, [139]);
      assert.deepEqual(config.nbtPort, [137]);
      assert.deepEqual(config.dgramPort, [138]);
      assert.equal(config.messageCommand, '');
      assert.equal(config.messageCommandTimeout, 30);
      assert.deepEqual(config.nameResolveOrder, ['lmhosts', 'wins', 'bcast']);
      assert.deepEqual(Object.keys(config.sources).sort(), Object.keys(SETTINGS).sort(), 'sources names every setting');
      assert.ok(Object.values(config.sources).every((s) => s === 'default'));
    });
  });
});

describe('the config file', () => {
  test('loadConfig reads <dataDir>/netsend.conf with Samba key spellings; the last of a repeated key wins', async () => {
    await withDataDir('[global]\n  Netbios  Name = pc7\nWORKGROUP = office\nmax_aliases = 3\nmax-aliases = 4\ninterfaces = eth0, 10.0.0.0/8  lo\nterminal = Off\n', (dataDir) => {
      const config = loadConfig({ dataDir, env: {} });
      assert.equal(config.netbiosName, 'pc7');
      assert.equal(config.workgroup, 'office');
      assert.equal(config.maxAliases, 4);
      assert.deepEqual(config.interfaces, ['eth0', '10.0.0.0/8', 'lo']);
      assert.equal(config.terminal, false);
      for (const name of ['netbiosName', 'workgroup', 'maxAliases', 'interfaces', 'terminal'] as const) assert.equal(config.sources[name], 'file', name);
      assert.equal(config.sources.smbPorts, 'default');
    });
  });

  test('loadConfig reads an explicit configFile, and refuses one that does not exist with ConfigError', async () => {
    await withDataDir(null, async (dataDir) => {
      const path = join(dataDir, 'other.conf');
      await writeFile(path, 'workgroup = ELSEWHERE\n');
      assert.equal(loadConfig({ dataDir, env: {}, configFile: path }).workgroup, 'ELSEWHERE');
      assert.throws(() => loadConfig({ dataDir, env: {}, configFile: join(dataDir, 'missing.conf') }), configError(/^Cannot read the config file .*missing\.conf: ENOENT/));
    });
  });

  test('loadConfig refuses an unknown key in the file with ConfigError naming the key, file and line (comment lines count)', async () => {
    await withDataDir('[global]\n# comment\nworkgroup = A\ncolour = blue\n', (dataDir) => {
      assert.throws(() => loadConfig({ dataDir, env: {} }), configError(new RegExp(`^${join(dataDir, 'netsend.conf').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:4: unknown setting "colour"$`)));
    });
    await withDataDir('[global]\n# comment\n; another\nnetbios nmae = X\n', (dataDir) => {
      assert.throws(() => loadConfig({ dataDir, env: {} }), configError(/netsend\.conf:4: unknown setting "netbiosnmae"$/), 'a misspelt key is named in its canonical form');
    });
  });

  test('loadConfig passes a file syntax error on as ConfSyntaxError with file:line', async () => {
    await withDataDir('[global]\nworkgroup OFFICE\n', (dataDir) => {
      assert.throws(() => loadConfig({ dataDir, env: {} }), (e: unknown) => e instanceof ConfSyntaxError && /netsend\.conf:2: expected "key = value"/.test(e.message));
    });
  });
});

describe('values loadConfig refuses or reads specially', () => {
  test('loadConfig refuses integers out of range or not whole, naming the setting, the value and where it came from', async () => {
    await withDataDir('[global]\nmax aliases = 5000\n', (dataDir) => {
      assert.throws(() => loadConfig({ dataDir, env: {} }), configError(/netsend\.conf:2: "max aliases" = "5000" is above the maximum 1000$/));
    });
    await withDataDir(null, (dataDir) => {
      const cases: Array<[Parameters<typeof loadConfig>[0], RegExp]> = [
        [{ dataDir, env: { NETSEND_MESSAGE_COMMAND_TIMEOUT: '0' } }, /^NETSEND_MESSAGE_COMMAND_TIMEOUT: "message command timeout" = "0" is below the minimum 1$/],
        [{ dataDir, env: {}, flags: { maxMessageSize: '2000000' } }, /^--max-message-size: "max message size" = "2000000" is above the maximum 1048576$/],
        [{ dataDir, env: {}, flags: { maxAliases: '5000' } }, /^--max-aliases: "max aliases" = "5000" is above the maximum 1000$/],
        [{ dataDir, env: {}, flags: { maxAliases: '-1' } }, /"max aliases" = "-1" is not a whole number$/],
        [{ dataDir, env: {}, flags: { maxAliases: '2.5' } }, /"max aliases" = "2.5" is not a whole number$/],
        [{ dataDir, env: {}, flags: { maxAliases: '' } }, /"max aliases" = "" is not a whole number$/],
        [{ dataDir, env: {}, flags: { smbPorts: '139 65536' } }, /^--smb-ports: "smb ports" = "139 65536" is not a list of ports/],
      ];
      for (const [sources, words] of cases) assert.throws(() => loadConfig(sources), configError(words), JSON.stringify(sources.flags ?? sources.env));
      assert.equal(loadConfig({ dataDir, env: {}, flags: { maxAliases: '1000' } }).maxAliases, 1000, 'the maximum itself is allowed');
      assert.equal(loadConfig({ dataDir, env: {}, flags: { maxAliases: ' 0 ' } }).maxAliases, 0, 'the minimum, with spaces');
    });
  });

  test('loadConfig reads --smb-ports 0 as no SMB listener (an empty port list)', async () => {
    await withDataDir(null, (dataDir) => {
      assert.deepEqual(loadConfig({ dataDir, env: {}, flags: { smbPorts: '0' } }).smbPorts, []);
    });
  });

  test("loadConfig reads yes/no/true/false/on/off/1/0 as booleans and refuses 'maybe' naming the setting", async () => {
    await withDataDir(null, (dataDir) => {
      for (const [word, value] of [['yes', true], ['No', false], ['TRUE', true], ['false', false], ['on', true], ['Off', false], ['1', true], ['0', false]] as const) {
        assert.equal(loadConfig({ dataDir, env: {}, flags: { terminal: word } }).terminal, value, word);
      }
      assert.throws(() => loadConfig({ dataDir, env: { NETSEND_BIND_INTERFACES_ONLY: 'maybe' } }), configError(/^NETSEND_BIND_INTERFACES_ONLY: "bind interfaces only" = "maybe" is not yes or no$/));
    });
  });

  test('loadConfig refuses an invalid netbios name or workgroup and an unknown dos charset, naming the setting', async () => {
    await withDataDir(null, (dataDir) => {
      const cases: Array<[Partial<Record<SettingName, string>>, RegExp]> = [
        [{ netbiosName: 'BAD*NAME' }, /^--netbios-name: "netbios name" = "BAD\*NAME" is not a valid NetBIOS name/],
        [{ netbiosName: 'ABCDEFGHIJKLMNOP' }, /"netbios name" = "ABCDEFGHIJKLMNOP" is not a valid NetBIOS name/],
        [{ netbiosName: '' }, /"netbios name" = "" is not a valid NetBIOS name/],
        [{ workgroup: '.hidden' }, /^--workgroup: "workgroup" = ".hidden" is not a valid NetBIOS name$/],
        [{ dosCharset: 'CP9999' }, /^--dos-charset: "dos charset" = "CP9999" is not a code page netsend knows$/],
        [{ winsServer: 'wins.example' }, /"wins server" = "wins.example" is not an IPv4 address/],
        [{ nameResolveOrder: 'lmhosts dns' }, /"name resolve order" = "lmhosts dns" may hold only lmhosts, wins, bcast and hub/],
        [{ interfaces: 'eth0 10.0.0.0/33' }, /"interfaces" = "eth0 10.0.0.0\/33" "10.0.0.0\/33" is not a valid IPv4 subnet/],
        [{ interfaces: ' , ' }, /"interfaces" = " , " is empty/],
        [{ messageCommand: "notify 'x" }, /"message command" = "notify 'x" Unterminated '/],
      ];
      for (const [flags, words] of cases) assert.throws(() => loadConfig({ dataDir, env: {}, flags }), configError(words), JSON.stringify(flags));
      assert.equal(loadConfig({ dataDir, env: {}, flags: { dosCharset: 'cp437' } }).dosCharset, 'cp437');
    });
  });

  test('netbios scope: none by default; dot-separated labels of 1-63 characters, from the file, the environment or a flag', async () => {
    await withDataDir('[global]\n  netbios scope = corp.example\n', (dataDir) => {
      assert.equal(loadConfig({ dataDir, env: {} }).netbiosScope, 'corp.example');
      assert.equal(loadConfig({ dataDir, env: { NETSEND_NETBIOS_SCOPE: 'other' } }).netbiosScope, 'other');
      assert.equal(loadConfig({ dataDir, env: {}, flags: { netbiosScope: '' } }).netbiosScope, '');
      assert.throws(() => loadConfig({ dataDir, env: {}, flags: { netbiosScope: 'a..b' } }), configError(/^--netbios-scope: "netbios scope" = "a\.\.b" must be dot-separated labels of 1-63 characters$/));
      assert.throws(() => loadConfig({ dataDir, env: {}, flags: { netbiosScope: 'my scope' } }), configError(/"netbios scope" = "my scope" may hold only printable ASCII/));
    });
    await withDataDir(null, (dataDir) => assert.equal(loadConfig({ dataDir, env: {} }).netbiosScope, ''));
  });

  test('loadConfig refuses a dos charset that is not a code page, such as base64 or hex', async () => {
    await withDataDir(null, (dataDir) => {
      for (const charset of ['base64', 'hex']) {
        assert.throws(() => loadConfig({ dataDir, env: {}, flags: { dosCharset: charset } }), configError(/"dos charset"/), charset);
      }
    });
  });
});

describe('enum settings and the rules between settings', () => {
  test('loadConfig takes an enum setting only among its declared values, as written, naming them when refusing', async () => {
    await withDataDir(null, (dataDir) => {
      const config = loadConfig({ dataDir, env: {}, flags: { secureTrust: ' known ', serverRole: 'domain controller', legacyInput: 'none' } });
      assert.deepEqual([config.secureTrust, config.serverRole, config.legacyInput], ['known', 'domain controller', 'none']);
      const cases: Array<[Partial<Record<SettingName, string>>, RegExp]> = [
        [{ secureTrust: 'pinned' }, /^--secure-trust: "secure trust" = "pinned" must be one of tofu, known, ca$/],
        [{ secureTrust: 'TOFU' }, /"secure trust" = "TOFU" must be one of tofu, known, ca$/],
        [{ serverRole: 'standalone' }, /^--server-role: "server role" = "standalone" must be one of standalone server, member server, domain controller$/],
        [{ legacyInput: 'some' }, /^--legacy-input: "legacy input" = "some" must be one of all, subnets, none$/],
      ];
      for (const [flags, words] of cases) assert.throws(() => loadConfig({ dataDir, env: {}, flags }), configError(words), JSON.stringify(flags));
    });
  });

  test('loadConfig reads "name resolve order" without case, in the declared spelling, and may leave it empty', async () => {
    await withDataDir('[global]\nname resolve order = WINS, Bcast\n', (dataDir) => {
      assert.deepEqual(loadConfig({ dataDir, env: {} }).nameResolveOrder, ['wins', 'bcast']);
      assert.deepEqual(loadConfig({ dataDir, env: {}, flags: { nameResolveOrder: '' } }).nameResolveOrder, []);
    });
  });

  test('with "hub servers" set and no order chosen, the hub is asked last; a chosen order is kept; a server must be nats:// or tls://', async () => {
    await withDataDir(null, (dataDir) => {
      assert.deepEqual(loadConfig({ dataDir, env: {} }).nameResolveOrder, ['lmhosts', 'wins', 'bcast']);
      const hub = { NETSEND_HUB_SERVERS: 'nats://10.0.0.1:4222,tls://hub.example:4222' };
      assert.deepEqual(loadConfig({ dataDir, env: hub }).nameResolveOrder, ['lmhosts', 'wins', 'bcast', 'hub']);
      assert.deepEqual(loadConfig({ dataDir, env: { ...hub, NETSEND_NAME_RESOLVE_ORDER: 'hub lmhosts' } }).nameResolveOrder, ['hub', 'lmhosts']);
      assert.throws(() => loadConfig({ dataDir, env: { NETSEND_HUB_SERVERS: 'http://hub:4222' } }), configError(/hub servers are nats:\/\/ or tls:\/\/ URLs/));
      assert.throws(() => loadConfig({ dataDir, env: { NETSEND_HUB_REALM: 'acme corp' } }), configError(/"hub realm" = "acme corp" must be 1-32 letters/));
    });
  });

  test('loadConfig refuses "secure trust = ca" without "secure ca file", naming both, from any source', async () => {
    const contradiction = configError(/^"secure trust" = ca needs "secure ca file": the site CA certificate \(PEM\) host certificates must be signed by\.$/);
    await withDataDir('[global]\nsecure trust = ca\n', (dataDir) => {
      assert.throws(() => loadConfig({ dataDir, env: {} }), contradiction);
      assert.throws(() => loadConfig({ dataDir, env: { NETSEND_SECURE_CA_FILE: '' } }), contradiction);
      assert.equal(loadConfig({ dataDir, env: { NETSEND_SECURE_CA_FILE: '/etc/netsend/ca.pem' } }).secureCaFile, '/etc/netsend/ca.pem');
      assert.equal(loadConfig({ dataDir, env: {}, flags: { secureTrust: 'tofu' } }).secureTrust, 'tofu', 'without "ca" no CA file is needed');
    });
  });
});

describe('the loaded config is frozen', () => {
  test('loadConfig freezes the result and its sources', async () => {
    await withDataDir(null, (dataDir) => {
      const config = loadConfig({ dataDir, env: {}, flags: { interfaces: 'eth0' } });
      assert.ok(Object.isFrozen(config));
      assert.ok(Object.isFrozen(config.sources));
      assert.throws(() => {
        (config as { workgroup: string }).workgroup = 'X';
      }, TypeError);
      assert.throws(() => {
        (config.sources as { workgroup: string }).workgroup = 'flag';
      }, TypeError);
      assert.throws(() => (config.interfaces as string[]).push('lo'), TypeError, 'a list from a flag is frozen');
    });
  });

  test('loadConfig freezes list values that come from the default too', async () => {
    await withDataDir(null, (dataDir) => {
      const config = loadConfig({ dataDir, env: {} });
      for (const name of ['interfaces', 'nameResolveOrder', 'smbPorts', 'nbtPort', 'dgramPort'] as const) {
        assert.ok(Object.isFrozen(config[name]), `${name} (default) is frozen`);
      }
    });
  });
});
