/** MessageRouter: which host, and the secure channel before the legacy wire, with fakes for both. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { NetApiError } from '../messenger/errors.js';
import type { OutgoingMessage, SendReport } from '../messenger/messenger.js';
import { NameCache } from './cache.js';
import type { Endpoint, NameResolver } from './resolver.js';
import { MessageRouter, type LegacyRoute, type SecureRoute } from './router.js';

const PORT = 139;
const message: OutgoingMessage = { from: 'BOB', to: 'ALICE', text: 'hi' };

/** What each route was asked, in order. */
type Call = { route: 'secure'; address: string } | { route: 'legacy'; endpoint: Endpoint };

function routes(secure: (address: string) => Promise<SendReport | null>, legacy: (endpoint: Endpoint) => Promise<SendReport> = async () => ({ charset: 'CP850' })) {
  const calls: Call[] = [];
  const secureRoute: SecureRoute = {
    tryDeliver: (_message, address) => {
      calls.push({ route: 'secure', address });
      return secure(address);
    },
  };
  const legacyRoute: LegacyRoute = {
    deliver: (_message, endpoint) => {
      calls.push({ route: 'legacy', endpoint });
      return legacy(endpoint);
    },
  };
  return { calls, secure: secureRoute, legacy: legacyRoute };
}

/** A name source that answers from a list, one answer per lookup (the last one repeats), and counts lookups. */
function source(...answers: Array<Endpoint | null>): NameResolver & { lookups: number } {
  const found = {
    lookups: 0,
    resolve: async () => answers[Math.min(found.lookups++, answers.length - 1)] ?? null,
  };
  return found;
}

describe('the secure channel first, then the legacy wire', () => {
  test('a host with a secure channel gets the message there, and the legacy wire is not used', async () => {
    const r = routes(async () => ({ secure: true, receipt: { host: '10.0.0.5:4139', message: 7 } }));
    const router = new MessageRouter({ resolver: new NameCache([], 0), port: PORT, secure: r.secure, legacy: r.legacy });
    const report = await router.send(message, { host: '10.0.0.5' });
    assert.deepEqual(report, { secure: true, receipt: { host: '10.0.0.5:4139', message: 7 } });
    assert.deepEqual(r.calls, [{ route: 'secure', address: '10.0.0.5' }]);
  });

  test('a host without one (null) gets it over the legacy wire at the same endpoint, with its report', async () => {
    const r = routes(async () => null, async () => ({ lossy: true, charset: 'CP850' }));
    const router = new MessageRouter({ resolver: new NameCache([], 0), port: PORT, secure: r.secure, legacy: r.legacy });
    assert.deepEqual(await router.send(message, { host: '10.0.0.5' }), { lossy: true, charset: 'CP850' });
    assert.deepEqual(r.calls, [{ route: 'secure', address: '10.0.0.5' }, { route: 'legacy', endpoint: { address: '10.0.0.5', port: PORT } }]);
  });

  test('an endpoint named with its own port (--host IP:PORT) is taken as a legacy one: no secure channel is tried', async () => {
    const r = routes(async () => assert.fail('the secure channel was tried'));
    const router = new MessageRouter({ resolver: new NameCache([], 0), port: PORT, secure: r.secure, legacy: r.legacy });
    await router.send(message, { host: '10.0.0.5:1139' });
    assert.deepEqual(r.calls, [{ route: 'legacy', endpoint: { address: '10.0.0.5', port: 1139 } }]);
  });

  test('a resolved endpoint on another port is taken as given too', async () => {
    const r = routes(async () => assert.fail('the secure channel was tried'));
    const router = new MessageRouter({ resolver: new NameCache([source({ address: '10.0.0.6', port: 1139 })], 0), port: PORT, secure: r.secure, legacy: r.legacy });
    await router.send(message, {});
    assert.deepEqual(r.calls, [{ route: 'legacy', endpoint: { address: '10.0.0.6', port: 1139 } }]);
  });

  test('without a secure channel configured, everything goes over the legacy wire', async () => {
    const r = routes(async () => assert.fail('no secure route'));
    const router = new MessageRouter({ resolver: new NameCache([source({ address: '10.0.0.6', port: PORT })], 0), port: PORT, legacy: r.legacy });
    await router.send(message, {});
    assert.deepEqual(r.calls, [{ route: 'legacy', endpoint: { address: '10.0.0.6', port: PORT } }]);
  });

  test('a refusal on the secure channel (a known netsend host that does not answer) is not downgraded to the legacy wire', async () => {
    const r = routes(async () => {
      throw new NetApiError('NERR_NetworkError', 'It is a known netsend host; not falling back to the unauthenticated wire.');
    });
    const router = new MessageRouter({ resolver: new NameCache([], 0), port: PORT, secure: r.secure, legacy: r.legacy });
    await assert.rejects(router.send(message, { host: '10.0.0.5' }), (e: unknown) => e instanceof NetApiError && e.statusName === 'NERR_NetworkError');
    assert.deepEqual(r.calls, [{ route: 'secure', address: '10.0.0.5' }]);
  });

  test('a --host that is not an IPv4 address with an optional port is refused with ERROR_INVALID_PARAMETER', async () => {
    const r = routes(async () => null);
    const router = new MessageRouter({ resolver: new NameCache([], 0), port: PORT, secure: r.secure, legacy: r.legacy });
    await assert.rejects(router.send(message, { host: 'example.com' }), (e: unknown) => e instanceof NetApiError && e.statusName === 'ERROR_INVALID_PARAMETER');
    assert.deepEqual(r.calls, []);
  });
});

describe('which host', () => {
  test('a name no source knows is NERR_NameNotFound, and nothing is sent', async () => {
    const r = routes(async () => null);
    const router = new MessageRouter({ resolver: new NameCache([source(null)], 60), port: PORT, secure: r.secure, legacy: r.legacy });
    await assert.rejects(
      router.send(message, {}),
      (e: unknown) => e instanceof NetApiError && e.statusName === 'NERR_NameNotFound' && /"ALICE" is not an alias here, and none of the name sources \("name resolve order"\) knows its host/.test(e.message),
    );
    assert.deepEqual(r.calls, []);
  });

  test('a cached address that fails with NERR_NetworkError is forgotten, and the name looked up once more', async () => {
    const names = source({ address: '10.0.0.5', port: PORT }, { address: '10.0.0.9', port: PORT });
    const resolver = new NameCache([names], 60);
    let legacyCalls = 0;
    const r = routes(async () => null, async (endpoint) => {
      legacyCalls++;
      if (legacyCalls === 2) throw new NetApiError('NERR_NetworkError', `Cannot reach ${endpoint.address}:${endpoint.port}: ECONNREFUSED.`);
      return { charset: 'CP850' };
    });
    const router = new MessageRouter({ resolver, port: PORT, secure: r.secure, legacy: r.legacy });
    await router.send(message, {}); // caches 10.0.0.5
    await router.send(message, {}); // 10.0.0.5 fails: looked up again, 10.0.0.9
    assert.equal(names.lookups, 2);
    assert.deepEqual(
      r.calls.map((c) => (c.route === 'secure' ? `secure ${c.address}` : `legacy ${c.endpoint.address}`)),
      ['secure 10.0.0.5', 'legacy 10.0.0.5', 'secure 10.0.0.5', 'legacy 10.0.0.5', 'secure 10.0.0.9', 'legacy 10.0.0.9'],
    );
  });

  test('an address just looked up is not looked up again when it fails', async () => {
    const names = source({ address: '10.0.0.5', port: PORT });
    const r = routes(async () => null, async () => {
      throw new NetApiError('NERR_NetworkError', 'The peer closed the connection.');
    });
    const router = new MessageRouter({ resolver: new NameCache([names], 60), port: PORT, secure: r.secure, legacy: r.legacy });
    await assert.rejects(router.send(message, {}), (e: unknown) => e instanceof NetApiError && e.statusName === 'NERR_NetworkError');
    assert.equal(names.lookups, 1);
  });

  test("a cached name whose recipient itself answers 'no such name' (final, as through the hub) is not sent again", async () => {
    const names = source({ address: '10.0.0.5', port: PORT });
    let legacyCalls = 0;
    const r = routes(async () => null, async () => {
      if (++legacyCalls === 1) return {};
      throw NetApiError.fromStatus(2273, 'The message alias could not be found on the network. (said by HOSTB, through the hub)', { final: true });
    });
    const router = new MessageRouter({ resolver: new NameCache([names], 60), port: PORT, secure: r.secure, legacy: r.legacy });
    await router.send(message, {});
    await assert.rejects(router.send(message, {}), (e: unknown) => e instanceof NetApiError && e.statusName === 'NERR_NameNotFound');
    assert.equal(legacyCalls, 2, 'sent once each time: a refusal is not a stale address');
    assert.equal(names.lookups, 1);
  });

  test('a cached address whose host refuses for another reason (access denied) is kept and not tried again', async () => {
    const names = source({ address: '10.0.0.5', port: PORT });
    const resolver = new NameCache([names], 60);
    let legacyCalls = 0;
    const r = routes(async () => null, async () => {
      if (++legacyCalls === 2) throw new NetApiError('ERROR_ACCESS_DENIED', '10.0.0.5:139 refused the message (ERRDOS/5).');
      return {};
    });
    const router = new MessageRouter({ resolver, port: PORT, secure: r.secure, legacy: r.legacy });
    await router.send(message, {});
    await assert.rejects(router.send(message, {}), (e: unknown) => e instanceof NetApiError && e.statusName === 'ERROR_ACCESS_DENIED');
    assert.equal(names.lookups, 1);
    assert.ok(resolver.has('ALICE', 0x03));
  });
});
