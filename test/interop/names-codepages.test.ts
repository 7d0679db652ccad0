/**
 * Names beyond ASCII and NetBIOS scopes, netsend beside Samba on a private LAN of namespaces,
 * for five OEM code pages (`dos charset`): Samba's own tools are the reference.
 *
 * - nmblookup, set to each code page, puts every character on the wire as netsend's mapping
 *   does (netbios-names.ts), except where the code page lacks the capital (Samba loses the name).
 * - Aliases with letters above 0x7F added with `netsend name X /add` are found by nmblookup in
 *   lower and mixed case, by broadcast and unicast, as nmbd's own names are; netsend defends them
 *   against an nmbd that claims them later (`netbios aliases`), and nmbd defends its own.
 * - Asked in another scope (`--netbios-scope=other`), neither netsend nor nmbd answers, for queries,
 *   node status and registrations; in the same scope they find and defend names as usual.
 */
import { startCapture } from '../helpers/capture.js';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import iconv from 'iconv-lite';
import { netbiosNames, sambaUpperCodePoint } from '../../src/messenger/netbios-names.js';
import { NBNS_OPCODE, RR_TYPE, encodeNbnsPacket } from '../../src/protocols/nbns/index.js';
import { TestLan, type TestHost } from '../helpers/bridge.js';
import { DaemonProcess, runCommand, tempDataDir } from '../helpers/daemon.js';
import { netnsUnavailable, waitUntil } from '../helpers/netns.js';
import { SambaHost, clientStateLines, sambaUnavailable } from '../helpers/samba.js';
import { sambaWireNames } from '../helpers/samba-names.js';

const skip = netnsUnavailable() ?? sambaUnavailable() ?? (spawnSync('which', ['nmbd']).status === 0 ? null : 'nmbd is not installed');

const FIXTURE = fileURLToPath(new URL('../../../test/fixtures/names/samba-upper.json', import.meta.url));

/** The code pages of the fixture; the first five are the ones the LAN below runs. */
const ORACLE_CODE_PAGES = ['CP437', 'CP850', 'CP852', 'CP866', 'CP1252', 'CP737', 'CP857', 'CP1250', 'CP1251', 'ISO-8859-15', 'KOI8-R'];

/**
 * Every character of a code page that can follow a letter in a name nmblookup is given (not '#',
 * which ends the name, nor '*' or '.'), and the lower-case letter of each capital it has.
 */
function oracleCharacters(charset: string): string[] {
  const chars = new Set<string>();
  for (let byte = 0x21; byte < 0x100; byte++) {
    const char = iconv.decode(Buffer.from([byte]), charset);
    if (char !== '\ufffd' && !'#*.'.includes(char)) chars.add(char);
  }
  for (const char of [...chars]) {
    const lower = char.toLowerCase();
    if ([...lower].length === 1) chars.add(lower);
  }
  return [...chars];
}

describe("Samba's upper case of every character, per code page (nmblookup as the oracle)", { skip: skip ?? false }, () => {
  test('nmblookup puts each character on the wire as netsend does, but loses a name whose capital the code page lacks', async () => {
    const temp = await tempDataDir();
    const fixture: Record<string, Record<string, string | null>> = {};
    try {
      for (const charset of ORACLE_CODE_PAGES) {
        const chars = oracleCharacters(charset);
        // 'x' first: a name must not start with '-' (an option) or '.', and the x shows the upper-casing.
        const wire = await sambaWireNames(join(temp.dir, charset), charset, chars.map((c) => `x${c}`));
        const names = netbiosNames(charset);
        const table: Record<string, string | null> = {};
        const lost: string[] = [];
        chars.forEach((char, i) => {
          const samba = wire[i]!.name;
          const ours = Buffer.from(names.toWire(`x${char}`), 'latin1').toString('hex');
          if (samba === '') {
            // Samba could not push the capital back to the code page: netsend keeps the letter.
            table[char] = null;
            lost.push(char);
            assert.equal(ours, `58${Buffer.from(iconv.encode(char, charset)).toString('hex')}`, `${charset} ${char}: netsend keeps the letter`);
            assert.ok(!names.holds(sambaUpperCodePoint(char)), `${charset} ${char}: the capital is indeed missing`);
          } else {
            table[char] = samba.slice(2);
            assert.equal(ours, samba, `${charset} ${char} (U+${char.codePointAt(0)!.toString(16)})`);
          }
        });
        fixture[charset] = table;
        if (charset === 'CP850') assert.deepEqual(lost.sort(), ['ÿ', 'ƒ'].sort(), 'CP850 lacks only Ÿ and Ƒ');
      }
    } finally {
      await temp.cleanup();
    }
    if (process.env.UPDATE_FIXTURES === '1') {
      await mkdir(join(FIXTURE, '..'), { recursive: true });
      const version = spawnSync('nmblookup', ['--version'], { encoding: 'utf8' }).stdout.trim();
      const source = `nmblookup (${version}, Debian 12) asked for "x" + each character, #03, with "dos charset" set to each code page; the bytes it put on the wire after the X (hex), recorded by test/helpers/samba-names.ts; null where Samba could not convert the upper-cased name (it then asks for an empty name). Regenerate: UPDATE_FIXTURES=1 node --test dist/test/interop/names-codepages.test.js`;
      // One line per code page: character → Samba's bytes.
      const pages = Object.entries(fixture).map(([charset, table]) => `  ${JSON.stringify(charset)}: ${JSON.stringify(table)}`);
      await writeFile(FIXTURE, `{\n "source": ${JSON.stringify(source)},\n "codePages": {\n${pages.join(',\n')}\n }\n}\n`);
    }
  });
});

interface CodePageCase {
  readonly charset: string;
  /** Aliases netsend adds (in this case form), which nmbd then claims too. */
  readonly aliases: readonly string[];
}

const CASES: readonly CodePageCase[] = [
  { charset: 'CP437', aliases: ['Éclair-437', 'Çöñ-437', 'straße-437', 'ωmega-437'] },
  { charset: 'CP850', aliases: ['Óscar-850', 'Ángel-850', 'Õnix-850', 'straße-850', 'µnit-850', 'ıx-850'] },
  { charset: 'CP852', aliases: ['Łódź-852', 'Śląsk-852', 'Žižka-852'] },
  { charset: 'CP866', aliases: ['Иван-866', 'Ёлка-866', 'Щука-866'] },
  { charset: 'CP1252', aliases: ['Ÿvonne-1252', 'Œuvre-1252', 'straße-1252', 'Šárka-1252'] },
];

/** nmbd's own names beside netsend's: the same letters, an 's' at the end. */
const twin = (alias: string) => `${alias}s`;
/** All lower case, one character at a time (so a final Σ stays σ). */
const lower = (name: string) => [...name].map((c) => c.toLowerCase()).join('');
/**
 * A name as nmbd's `netbios aliases` can take it: nmbd converts the name to the code page before it
 * upper-cases it, so a letter the code page has only as a capital (CP437's Ω, not ω) is given so.
 */
const nmbdForm = (name: string, charset: string) => {
  const names = netbiosNames(charset);
  return [...name].map((c) => (names.holds(c.toLowerCase()) ? c.toLowerCase() : names.upper(c))).join('');
};
/** Every other character upper-cased as the code page does it. */
const mixed = (name: string, charset: string) => [...name].map((c, i) => (i % 2 === 0 ? c.toLowerCase() : netbiosNames(charset).upper(c))).join('');

describe('names in five code pages and NetBIOS scopes: netsend beside nmbd', { skip: skip ?? false }, () => {
  let lan: TestLan;
  let cleanup: () => Promise<void>;
  let dir: string;
  const netsends: DaemonProcess[] = [];
  const sambas: SambaHost[] = [];
  /** Host i: the netsend of CASES[i]; 5: netsend in scope OTHER; 6+i: nmbd of CASES[i]; 11: nmbd in scope OTHER; 12: the client. */
  let host: (i: number) => TestHost;
  const SCOPED = 5;
  const NMBD = 6;
  const SCOPED_NMBD = 11;
  const CLIENT = 12;
  let scopedNetsend: DaemonProcess;
  /** tshark on the scoped netsend's host: every name packet it sends and gets, dissected at the end. */
  let capture: Awaited<ReturnType<typeof startCapture>> | undefined;

  /** nmblookup on the client host with `charset`; returns, per name asked, the addresses that answered. */
  const lookup = async (charset: string, args: readonly string[], names: readonly string[]) => {
    const conf = join(dir, `client-${charset}.conf`);
    const result = await runCommand([...host(CLIENT).prefix, 'timeout', '-k', '2', '30', 'nmblookup', '-s', conf, ...args, ...names.map((n) => `${n}#03`)], { timeoutMs: 40_000 });
    const found = new Map<string, Set<string>>(names.map((n) => [n, new Set<string>()]));
    for (const line of result.stdout.split('\n')) {
      const match = /^(\d+\.\d+\.\d+\.\d+) (.+)<03>$/.exec(line.trim());
      if (match) found.get(match[2]!)?.add(match[1]!);
    }
    return { found, output: result.stdout + result.stderr };
  };

  before(async () => {
    ({ dir, cleanup } = await tempDataDir());
    lan = TestLan.create(13);
    host = (i) => lan.hosts[i]!;
    capture = await startCapture(host(SCOPED).prefix, 'eth0', 'udp port 137 or udp port 138', join(dir, 'scoped.pcapng'));
    for (const { charset } of CASES) {
      await writeFile(join(dir, `client-${charset}.conf`), `[global]\n  netbios name = LOOKER\n  dos charset = ${charset}\n  unix charset = UTF-8\n  interfaces = eth0\n  name resolve order = bcast\n${clientStateLines(join(dir, `client-state-${charset}`))}`);
    }
    const start = (i: number, charset: string, name: string, extra: string[] = []) =>
      DaemonProcess.start(join(dir, `netsend-${i}`), ['--interfaces', 'eth0', '--terminal', 'no', '--dos-charset', charset, ...extra], {
        prefix: host(i).prefix,
        env: { NETSEND_NETBIOS_NAME: name },
        timeoutMs: 30_000,
      });
    const started = await Promise.all([
      ...CASES.map((c, i) => start(i, c.charset, `NS${c.charset.slice(2)}`)),
      start(SCOPED, 'CP850', 'NSSCOPED', ['--netbios-scope', 'other']),
    ]);
    netsends.push(...started.slice(0, CASES.length));
    scopedNetsend = started[SCOPED]!;
    // netsend holds its names before nmbd claims them.
    const adds = await Promise.all([
      ...CASES.flatMap((c, i) => c.aliases.map(async (alias) => ({ alias, added: await netsends[i]!.cli(['name', alias, '/add']) }))),
      (async () => ({ alias: 'Zona-scope', added: await scopedNetsend.cli(['name', 'Zona-scope', '/add']) }))(),
    ]);
    for (const { alias, added } of adds) assert.equal(added.code, 0, `netsend name ${alias} /add: ${added.stdout}${added.stderr}`);
    sambas.push(
      ...(await Promise.all([
        ...CASES.map((c, i) =>
          SambaHost.start(join(dir, `nmbd-${i}`), host(NMBD + i).prefix, {
            netbiosName: `SMB${c.charset.slice(2)}`,
            aliases: [...c.aliases, ...c.aliases.map(twin)].map((a) => nmbdForm(a, c.charset)),
            globals: [`dos charset = ${c.charset}`, 'unix charset = UTF-8'],
            smbd: false,
          }),
        ),
        SambaHost.start(join(dir, 'nmbd-scoped'), host(SCOPED_NMBD).prefix, {
          netbiosName: 'SMBSCOPED',
          aliases: ['zona-scope', 'Isla-scopes'],
          globals: ['dos charset = CP850', 'unix charset = UTF-8', 'netbios scope = OTHER'],
          smbd: false,
        }),
      ])),
    );
    // nmbd answers broadcasts once its own registrations are done; netsend logs each defence.
    // A wait that times out says how that nmbd's log ends (seen once in a loaded full run: one nmbd
    // of five had not registered after 30 s, the others had).
    const registered = async (logDir: string, condition: () => boolean, what: string) => {
      try {
        await waitUntil(condition, 30_000, what);
      } catch (error) {
        const log = await readFile(join(logDir, 'nmbd.log'), 'utf8').catch((why: unknown) => `(no log: ${String(why)})`);
        throw new Error(`${(error as Error).message}; its log ends:\n${log.split('\n').slice(-40).join('\n')}`);
      }
    };
    await Promise.all([
      ...CASES.map(async (c, i) => {
        await registered(join(dir, `nmbd-${i}`), () => spawnSync(host(CLIENT).prefix[0]!, [...host(CLIENT).prefix.slice(1), 'nmblookup', '-s', join(dir, `client-${c.charset}.conf`), '-B', lan.broadcast, `${twin(c.aliases[0]!)}#03`], { timeout: 10_000 }).status === 0, `nmbd (${c.charset}) to register its names`);
        await netsends[i]!.waitFor(() => c.aliases.every((a) => netsends[i]!.stderr.includes(`defended ${netbiosNames(c.charset).upper(a)}<03>`)), 20_000, `netsend (${c.charset}) to defend its aliases`);
      }),
      (async () => {
        await registered(join(dir, 'nmbd-scoped'), () => spawnSync(host(CLIENT).prefix[0]!, [...host(CLIENT).prefix.slice(1), 'nmblookup', '-s', join(dir, 'client-CP850.conf'), '--netbios-scope=other', '-B', lan.broadcast, 'isla-scopes#03'], { timeout: 10_000 }).status === 0, 'the scoped nmbd to register its names');
        await scopedNetsend.waitFor(() => scopedNetsend.stderr.includes('defended ZONA-SCOPE<03>'), 20_000, 'the scoped netsend to defend its alias');
      })(),
    ]);
  });

  after(async () => {
    await capture?.stop('nbns').catch(() => undefined);
    await Promise.all([...netsends, scopedNetsend].map((d) => d?.stop()));
    await Promise.all(sambas.map((s) => s.stop()));
    lan?.destroy();
    await cleanup?.();
  });

  for (const [i, c] of CASES.entries()) {
    test(`${c.charset}: nmblookup finds netsend's aliases and nmbd's names alike, in lower and mixed case, by broadcast and unicast`, async () => {
      const netsendAt = host(i).address;
      const nmbdAt = host(NMBD + i).address;
      const forms = (names: readonly string[]) => names.flatMap((n) => [lower(n), mixed(n, c.charset)]);
      const ours = forms(c.aliases);
      const theirs = forms(c.aliases.map(twin));
      const [bcast, toNetsend, toNmbd] = await Promise.all([
        lookup(c.charset, ['-B', lan.broadcast], [...ours, ...theirs]),
        lookup(c.charset, ['-U', netsendAt], ours),
        lookup(c.charset, ['-U', nmbdAt], theirs),
      ]);
      for (const name of ours) {
        assert.deepEqual([...bcast.found.get(name)!], [netsendAt], `broadcast ${name}: netsend alone answers\n${bcast.output}`);
        assert.deepEqual([...toNetsend.found.get(name)!], [netsendAt], `unicast ${name}\n${toNetsend.output}`);
      }
      for (const name of theirs) {
        assert.deepEqual([...bcast.found.get(name)!], [nmbdAt], `broadcast ${name}: nmbd answers\n${bcast.output}`);
        assert.deepEqual([...toNmbd.found.get(name)!], [nmbdAt], `unicast ${name}\n${toNmbd.output}`);
      }
    });

    test(`${c.charset}: netsend defends its aliases against nmbd, and nmbd defends its names against netsend`, async () => {
      const names = netbiosNames(c.charset);
      for (const alias of c.aliases) assert.match(netsends[i]!.stderr, new RegExp(`defended ${escape(names.upper(alias))}<03> against a registration`));
      // nmbd lost them on the segment: a broadcast query finds netsend alone (nmbd still answers a
      // unicast query for them, from the names it keeps for unicast, as it does before it registers).
      const asked = await lookup(c.charset, ['-B', lan.broadcast], c.aliases.map((a) => mixed(a, c.charset)));
      for (const alias of c.aliases) assert.deepEqual([...asked.found.get(mixed(alias, c.charset))!], [host(i).address], `${alias}\n${asked.output}`);
      // netsend asks for nmbd's name in another case than nmbd registered it: still defended.
      const claim = await netsends[i]!.cli(['name', mixed(twin(c.aliases[0]!), c.charset), '/add', '--json']);
      assert.equal(claim.code, 1, claim.stdout + claim.stderr);
      assert.equal(JSON.parse(claim.stdout).status, 2297, claim.stdout);
    });
  }

  test('asked in another scope (nmblookup --netbios-scope=other), neither netsend nor nmbd answers: query, node status', async () => {
    const netsendAt = host(1).address;
    const nmbdAt = host(NMBD + 1).address;
    const ours = 'óscar-850';
    const theirs = 'óscar-850s';
    const other = ['--netbios-scope=other'];
    const [bcast, toNetsend, toNmbd, inScope] = await Promise.all([
      lookup('CP850', [...other, '-B', lan.broadcast], [ours, theirs]),
      lookup('CP850', [...other, '-U', netsendAt], [ours]),
      lookup('CP850', [...other, '-U', nmbdAt], [theirs]),
      lookup('CP850', ['-B', lan.broadcast], [ours, theirs]),
    ]);
    assert.deepEqual([...inScope.found.get(ours)!, ...inScope.found.get(theirs)!], [netsendAt, nmbdAt], 'in the default scope both answer');
    assert.equal(bcast.found.get(ours)!.size + bcast.found.get(theirs)!.size, 0, bcast.output);
    assert.equal(toNetsend.found.get(ours)!.size, 0, toNetsend.output);
    assert.equal(toNmbd.found.get(theirs)!.size, 0, toNmbd.output);
    // Both say "no" to a unicast query in another scope (a negative response, as for any name they lack).
    assert.match(toNetsend.output, /name_query failed to find name óscar-850#03/);
    assert.match(toNmbd.output, /name_query failed to find name óscar-850s#03/);
    // Node status: no answer from either in another scope (nmblookup would wait 10 s: 3 are plenty),
    // the full table in their own.
    const status = (address: string, scoped: boolean) =>
      runCommand([...host(CLIENT).prefix, 'timeout', '-k', '1', '3', 'nmblookup', '-s', join(dir, 'client-CP850.conf'), ...(scoped ? other : []), '-A', address], { timeoutMs: 10_000 });
    const [netsendOther, nmbdOther, netsendOwn, nmbdOwn] = await Promise.all([status(netsendAt, true), status(nmbdAt, true), status(netsendAt, false), status(nmbdAt, false)]);
    assert.doesNotMatch(netsendOther.stdout, /<ACTIVE>/, netsendOther.stdout);
    assert.doesNotMatch(nmbdOther.stdout, /<ACTIVE>/, nmbdOther.stdout);
    assert.match(netsendOwn.stdout, /<03> -\s+B <ACTIVE>/);
    assert.match(nmbdOwn.stdout, /<03> -\s+B <ACTIVE>/);
  });

  test('a registration in another scope is not defended by netsend nor by nmbd; in their scope both defend (ACT_ERR)', async () => {
    const names = netbiosNames('CP850');
    const registration = (id: number, name: string, scope: string) =>
      Buffer.from(
        encodeNbnsPacket({
          id, response: false, opcode: NBNS_OPCODE.registration,
          flags: { authoritative: false, truncated: false, recursionDesired: true, recursionAvailable: false, broadcast: true },
          rcode: 0,
          questions: [{ name: { name: names.toWire(name), suffix: 0x03, scope }, type: RR_TYPE.NB, class: 1 }],
          answers: [], authorities: [],
          additionals: [{ name: { name: names.toWire(name), suffix: 0x03, scope }, type: RR_TYPE.NB, class: 1, ttl: 300, data: { kind: 'nb', entries: [{ group: false, nodeType: 'B', address: host(CLIENT).address }] } }],
        }),
      ).toString('hex');
    // Four claims from the client host, broadcast; every answer is printed as "id source rcode".
    const requests = [registration(1, 'Óscar-850', 'OTHER'), registration(2, 'Óscar-850s', 'other'), registration(3, 'Óscar-850', ''), registration(4, 'Óscar-850s', '')];
    const script = `const s=require('dgram').createSocket('udp4');s.bind(0,'${host(CLIENT).address}',()=>{s.setBroadcast(true);for(const h of ${JSON.stringify(requests)})s.send(Buffer.from(h,'hex'),137,'${lan.broadcast}')});s.on('message',(m,r)=>console.log(m.readUInt16BE(0),r.address,m[3]&15));setTimeout(()=>process.exit(0),1500)`;
    const answers = (await runCommand([...host(CLIENT).prefix, process.execPath, '-e', script])).stdout.trim().split('\n').filter((l) => l !== '');
    const by = (id: number) => [...new Set(answers.filter((l) => l.startsWith(`${id} `)))];
    assert.deepEqual(by(1), [], 'netsend ignores a claim of its alias in another scope');
    assert.deepEqual(by(2), [], 'nmbd ignores a claim of its name in another scope');
    assert.deepEqual(by(3), [`3 ${host(1).address} 6`], 'netsend defends the same name in its scope');
    assert.deepEqual(by(4), [`4 ${host(NMBD + 1).address} 6`], 'nmbd defends the same name in its scope');
  });

  test('in scope OTHER, netsend and nmbd find each other and defend their names; the default scope is another world', async () => {
    const scopedAt = host(SCOPED).address;
    const scopedNmbdAt = host(SCOPED_NMBD).address;
    const other = ['--netbios-scope=other'];
    const [inScope, unscoped] = await Promise.all([
      lookup('CP850', [...other, '-B', lan.broadcast], ['zona-scope', 'ISLA-scopes']),
      lookup('CP850', ['-U', scopedAt], ['zona-scope']),
    ]);
    assert.deepEqual([...inScope.found.get('zona-scope')!], [scopedAt], `netsend in scope OTHER is found there\n${inScope.output}`);
    assert.deepEqual([...inScope.found.get('ISLA-scopes')!], [scopedNmbdAt], inScope.output);
    assert.equal(unscoped.found.get('zona-scope')!.size, 0, `not in the default scope\n${unscoped.output}`);
    // netsend's registration went out in its scope, lower-case "other" on the command line: nmbd
    // there (scope OTHER) found it its own and netsend defended it.
    assert.match(scopedNetsend.stderr, /defended ZONA-SCOPE<03> against a registration/);
    // nmbd in scope OTHER defends its name; a name held in the default scope is no conflict.
    const refused = await scopedNetsend.cli(['name', 'isla-scopes', '/add', '--json']);
    assert.equal(JSON.parse(refused.stdout).status, 2297, refused.stdout);
    const elsewhere = await scopedNetsend.cli(['name', 'Óscar-850s', '/add']);
    assert.equal(elsewhere.code, 0, `a name nmbd holds in the default scope: ${elsewhere.stdout}${elsewhere.stderr}`);
  });

  test('tshark dissects every name service packet the scoped netsend sent and got, scope and all, with no malformed field', async () => {
    const report = await capture!.stop('nbns');
    capture = undefined;
    const scopedAt = host(SCOPED).address;
    assert.ok(report.count(`nbns && ip.src == ${scopedAt} && nbns.flags.opcode == 5`) > 0, 'its registrations were captured');
    assert.ok(report.count(`nbns && ip.src == ${scopedAt} && nbns.flags.response == 1`) > 0, 'its answers were captured');
    assert.deepEqual(report.bad, []);
  });
});

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
