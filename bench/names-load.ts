/**
 * The querying client of `npm run bench:names`: unicast NB queries for one name, with a window
 * of queries in flight, for a fixed time; prints { answered, perSecond, p50, p99 } as JSON.
 *
 *   node names-load.js '{"target":"10.77.0.1","name":"NSHOST","suffix":32,"seconds":5,"window":16}'
 */
import { createSocket } from 'node:dgram';
import { NBNS_OPCODE, RR_TYPE, encodeNbnsPacket } from '../src/protocols/nbns/index.js';

const config = JSON.parse(process.argv[2] ?? '{}') as { target: string; name: string; suffix: number; seconds: number; window: number };
const socket = createSocket('udp4');
await new Promise<void>((resolve) => socket.bind(0, resolve));
const sentAt = new Map<number, number>();
const latencies: number[] = [];
let id = 0;
const query = () => {
  id = (id + 1) & 0xffff;
  sentAt.set(id, performance.now());
  socket.send(
    encodeNbnsPacket({
      id, response: false, opcode: NBNS_OPCODE.query,
      flags: { authoritative: false, truncated: false, recursionDesired: false, recursionAvailable: false, broadcast: false },
      rcode: 0, questions: [{ name: { name: config.name, suffix: config.suffix, scope: '' }, type: RR_TYPE.NB, class: 1 }],
      answers: [], authorities: [], additionals: [],
    }),
    137,
    config.target,
  );
};
const deadline = performance.now() + config.seconds * 1000;
const started = performance.now();
socket.on('message', (message) => {
  const answered = message.readUInt16BE(0);
  const t0 = sentAt.get(answered);
  if (t0 === undefined) return;
  sentAt.delete(answered);
  latencies.push(performance.now() - t0);
  if (performance.now() < deadline) query();
});
for (let i = 0; i < config.window; i++) query();
// A lost query would shrink the window: top it up every 50 ms, dropping answers older than 1 s.
const refill = setInterval(() => {
  const now = performance.now();
  for (const [pending, t0] of sentAt) if (now - t0 > 1000) sentAt.delete(pending);
  while (sentAt.size < config.window && now < deadline) query();
}, 50);
await new Promise((resolve) => setTimeout(resolve, config.seconds * 1000 + 200));
clearInterval(refill);
socket.close();
latencies.sort((a, b) => a - b);
const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
const elapsed = (performance.now() - started) / 1000;
console.log(JSON.stringify({ answered: latencies.length, perSecond: latencies.length / elapsed, p50: at(0.5), p99: at(0.99) }));
