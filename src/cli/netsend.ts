#!/usr/bin/env node
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
