/**
 * `npm run fuzz`: the long fuzzing run, for releases.
 *   FUZZ_SECONDS (default 60 per part), FUZZ_SEED (default: a new one, printed first)
 */
import { fuzzDecoders } from './harness.js';
import { fuzzDaemonSockets } from './sockets.js';

const seconds = Number(process.env.FUZZ_SECONDS ?? 60);
const seed = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
console.log(`fuzzing with FUZZ_SEED=${seed}, ${seconds} s per part`);
const decoders = fuzzDecoders({ seconds, maxInputs: Number.MAX_SAFE_INTEGER, seed });
console.log(`decoders: ${decoders.inputs.toLocaleString('en-US')} inputs, no exception but DecodeError; heap growth ${decoders.heapGrowthMiB.toFixed(1)} MiB`);
const sockets = await fuzzDaemonSockets({ seconds, seed });
console.log(
  `daemon sockets: ${sockets.tcpSessions.toLocaleString('en-US')} TCP sessions, ${sockets.secureSessions.toLocaleString('en-US')} secure-channel sessions, ` +
    `${sockets.udpPackets.toLocaleString('en-US')} UDP packets; ` +
    `alive ${sockets.alive}, control answers ${sockets.controlAnswers}, RSS ${sockets.rssBeforeMiB.toFixed(1)} → ${sockets.rssAfterMiB.toFixed(1)} MiB`,
);
if (!sockets.alive || !sockets.controlAnswers) process.exitCode = 1;
