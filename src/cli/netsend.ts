#!/usr/bin/env node
import { processIo } from './io.js';
import { runNetsend } from './netsend-cli.js';

process.exitCode = await runNetsend(process.argv.slice(2), processIo());
