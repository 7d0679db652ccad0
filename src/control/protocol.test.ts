/** The control socket's line framing (protocol.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { LineFramer, LineTooLongError, MAX_LINE_BYTES, encodeLine, type Request } from './protocol.js';

/** Cuts `bytes` at the given offsets (any order, repeats allowed) and pushes each piece. */
function pushInPieces(framer: LineFramer, bytes: Buffer, cuts: readonly number[]): string[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const lines: string[] = [];
  let start = 0;
  for (const point of [...points, bytes.length]) {
    lines.push(...framer.push(bytes.subarray(start, point)));
    start = point;
  }
  return lines;
}

const tooLong = (max: number) => (e: unknown) => {
  assert.ok(e instanceof LineTooLongError, `expected a LineTooLongError, got ${String(e)}`);
  assert.ok(e instanceof RangeError);
  assert.equal(e.code, 'NETSEND_CONTROL_LINE_TOO_LONG');
  assert.equal(e.message, `A control line is longer than ${max} bytes`);
  return true;
};

test('LineFramer yields each complete line and keeps a partial line for the next chunk', () => {
  const framer = new LineFramer(1024);
  assert.deepEqual(framer.push(Buffer.from('{"id":1}\n{"id"')), ['{"id":1}']);
  assert.deepEqual(framer.push(Buffer.from(':2')), []);
  assert.deepEqual(framer.push(Buffer.from('}\n\n{"id":3}\n')), ['{"id":2}', '', '{"id":3}']);
  assert.deepEqual(framer.push(Buffer.alloc(0)), []);
});

test('LineFramer joins a multi-byte UTF-8 character split across chunks, byte by byte', () => {
  const framer = new LineFramer(1024);
  const bytes = Buffer.from('{"text":"€ 😀 中"}\n', 'utf8');
  const lines: string[] = [];
  for (const byte of bytes) lines.push(...framer.push(Buffer.from([byte])));
  assert.deepEqual(lines, ['{"text":"€ 😀 中"}']);
});

test('LineFramer gives the same lines for any split of a joined list of JSON lines', () => {
  const value = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.record({ id: fc.nat(), op: fc.constant('send'), text: fc.string({ unit: 'binary', maxLength: 30 }) }));
  fc.assert(
    fc.property(fc.array(value, { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 20 }), (values, cuts) => {
      const lines = values.map((v) => JSON.stringify(v));
      const bytes = Buffer.from(lines.map((l) => `${l}\n`).join(''), 'utf8');
      assert.deepEqual(pushInPieces(new LineFramer(1 << 20), bytes, cuts), lines);
    }),
    { numRuns: 1000 },
  );
});

test('LineFramer accepts a line of exactly maxBytes and throws LineTooLongError one byte later', () => {
  const framer = new LineFramer(8);
  assert.deepEqual(framer.push(Buffer.from('12345678\n')), ['12345678']);
  assert.deepEqual(framer.push(Buffer.from('1234')), []);
  assert.deepEqual(framer.push(Buffer.from('5678')), []);
  assert.throws(() => framer.push(Buffer.from('9')), tooLong(8), 'a partial line past 8 bytes');
  assert.throws(() => new LineFramer(8).push(Buffer.from('123456789\n')), tooLong(8), 'a complete line past 8 bytes in one chunk');
  assert.throws(() => new LineFramer(8).push(Buffer.from('ok\n123456789')), tooLong(8), 'a trailing partial past 8 bytes');
});

test('LineFramer refuses a chunk that would take the partial line past maxBytes without buffering it', () => {
  const framer = new LineFramer(8);
  framer.push(Buffer.from('1234567'));
  assert.throws(() => framer.push(Buffer.alloc(1024 * 1024, 0x41)), tooLong(8));
  assert.deepEqual(framer.push(Buffer.from('\n')), ['1234567'], 'what it held is still at most 8 bytes: the big chunk was not kept');
});

test('LineFramer throws exactly when some line is longer than maxBytes, and yields the lines before it', () => {
  const piece = fc.string({ unit: fc.constantFrom('a', 'é', '€', '\n'), maxLength: 12 });
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 10 }), fc.integer({ min: 1, max: 16 }), (chunks, max) => {
      const all = Buffer.from(chunks.join(''), 'utf8');
      const segments: Buffer[] = [];
      for (let start = 0; ; ) {
        const nl = all.indexOf(10, start);
        segments.push(all.subarray(start, nl < 0 ? all.length : nl));
        if (nl < 0) break;
        start = nl + 1;
      }
      const complete = segments.slice(0, -1);
      const firstTooLong = segments.findIndex((s) => s.length > max);
      const framer = new LineFramer(max);
      const lines: string[] = [];
      let thrown: unknown;
      try {
        for (const chunk of chunks) lines.push(...framer.push(Buffer.from(chunk, 'utf8')));
      } catch (error) {
        thrown = error;
      }
      if (firstTooLong < 0) {
        assert.equal(thrown, undefined);
        assert.deepEqual(lines, complete.map((s) => s.toString('utf8')));
      } else {
        assert.ok(thrown instanceof LineTooLongError, `expected LineTooLongError for a ${segments[firstTooLong]?.length}-byte line, max ${max}`);
        assert.deepEqual(lines, complete.slice(0, lines.length).map((s) => s.toString('utf8')), 'only lines before the long one');
        assert.ok(lines.length <= firstTooLong);
      }
    }),
    { numRuns: 1000 },
  );
});

test(`LineFramer's default limit is MAX_LINE_BYTES (4 MiB)`, () => {
  assert.equal(MAX_LINE_BYTES, 4 * 1024 * 1024);
  const framer = new LineFramer();
  assert.deepEqual(framer.push(Buffer.alloc(MAX_LINE_BYTES, 0x20)), []);
  assert.throws(() => framer.push(Buffer.from('x')), tooLong(MAX_LINE_BYTES));
});

test('encodeLine writes one JSON object and one newline, whatever the text holds', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 100 }), fc.nat(), (text, id) => {
      const request: Request = { id, op: 'send', to: 'ALICE', text };
      const line = encodeLine(request);
      assert.equal(line.indexOf('\n'), line.length - 1, 'the only newline is the last character');
      assert.deepEqual(new LineFramer().push(Buffer.from(line, 'utf8')).map((l) => JSON.parse(l) as unknown), [request]);
    }),
    { numRuns: 500 },
  );
});
