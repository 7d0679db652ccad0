#!/usr/bin/env -S node --max-semi-space-size=1
// The flag: a young generation of at most 1 MiB a half. The daemon allocates little once started,
// and V8's default (16 MiB) grows while the modules load and keeps the pages: about 2 MiB of
// resident memory, for more frequent but smaller scavenges. `npm start` and the tests' daemons
// (test/helpers/daemon.ts) start node with the flags of this line too.
import { processIo } from './io.js';
import { runNetsend } from './netsend-cli.js';

// A reader that goes away (`netsend inbox | head`) ends a command quietly, as `ls | head` does;
// the daemon (serve) keeps running and handles its own output.
if (process.argv[2] !== 'serve') {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(0);
  });
}

process.exitCode = await runNetsend(process.argv.slice(2), processIo());
