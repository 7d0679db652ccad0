#!/usr/bin/env node
import { processIo } from './io.js';
import { runSendnetmsg } from './sendnetmsg-cli.js';

process.exitCode = await runSendnetmsg(process.argv.slice(2), processIo());
