import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { endpointText, parseEndpoint, sourceAddress } from './address.js';

test('parseEndpoint reads IPv4, bracketed and unbracketed IPv6, link-local zones and IPv4-mapped peers, with or without a port', () => {
  const cases: Array<[string, { address: string; port: number | null }]> = [
    ['10.0.0.5:139', { address: '10.0.0.5', port: 139 }],
    ['10.0.0.5', { address: '10.0.0.5', port: null }],
    ['[fd00::5]:4139', { address: 'fd00::5', port: 4139 }],
    ['[fd00::5]', { address: 'fd00::5', port: null }],
    ['fd00::5:4139', { address: 'fd00::5', port: 4139 }],
    ['fd00::5', { address: 'fd00::5', port: null }],
    ['::1:50000', { address: '::1', port: 50000 }],
    ['::1', { address: '::1', port: null }],
    ['fe80::1%eth0:4139', { address: 'fe80::1%eth0', port: 4139 }],
    ['[fe80::1%eth0]:4139', { address: 'fe80::1%eth0', port: 4139 }],
    ['fe80::1%eth0', { address: 'fe80::1%eth0', port: null }],
    ['::ffff:10.0.0.5', { address: '10.0.0.5', port: null }],
    ['::ffff:10.0.0.5:40000', { address: '10.0.0.5', port: 40000 }],
    ['[::FFFF:10.0.0.5]:40000', { address: '10.0.0.5', port: 40000 }],
    ['10.0.0.5:0', { address: '10.0.0.5', port: 0 }],
    ['10.0.0.5:65535', { address: '10.0.0.5', port: 65535 }],
    ['fd00::005', { address: 'fd00::005', port: null }],
    ['[10.0.0.5]:139', { address: '10.0.0.5', port: 139 }],
  ];
  for (const [text, endpoint] of cases) assert.deepEqual(parseEndpoint(text), endpoint, text);
});

test('parseEndpoint gives null for what is no address: names, garbage, ports out of range or zero-padded', () => {
  for (const text of ['', 'HOSTB', 'HOSTB:139', 'unknown', 'undefined:undefined', '10.0.0.256', '10.0.0.5:65536', '10.0.0.5:-1', '10.0.0.5:0139', '10.0.0.5:', ':139', '[fd00::5', '[fd00::5]:', '[HOSTB]:1', 'fd00::5::1', '10.0.0.5:139:1']) {
    assert.equal(parseEndpoint(text), null, text);
  }
});

test('property: an endpoint written as sources are written reads back as itself', () => {
  const address = fc.oneof(fc.ipV4(), fc.ipV6().filter((a) => !/^::ffff:\d/i.test(a)));
  fc.assert(
    fc.property(address, fc.option(fc.integer({ min: 0, max: 65535 }), { nil: null }), (ip, port) => {
      const text = endpointText({ address: ip, port });
      const parsed = parseEndpoint(text);
      // unbracketed, an IPv6 address ending in "::…:digits" with no port reads as one with a port: sources always have one
      if (port === null && parseEndpoint(ip)?.port !== null) return;
      assert.deepEqual(parsed, { address: ip, port }, text);
      assert.equal(sourceAddress(text), ip);
    }),
    { numRuns: 2000 },
  );
});

test('sourceAddress keys a source by its address, and a source that is no address by itself', () => {
  assert.equal(sourceAddress('[fe80::1%eth0]:4139'), 'fe80::1%eth0');
  assert.equal(sourceAddress('::ffff:10.0.0.5:4139'), '10.0.0.5');
  assert.equal(sourceAddress('unknown'), 'unknown');
});
