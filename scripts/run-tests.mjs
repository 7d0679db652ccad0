#!/usr/bin/env node
// Runs every compiled test file (dist/**/*.test.js) with node:test.
// Node 20's `node --test` takes no globs, so the files are collected here.
//   node scripts/run-tests.mjs [substring …]   only files whose path contains one of the substrings
//
// A test that hangs must fail with its name, not stall the run: each test file, and each test in
// it, gets TEST_TIMEOUT_MS (default 10 min); a test file's process exits when its tests are done
// even if something it started is still open (--test-force-exit); and the whole run is stopped
// after TEST_RUN_TIMEOUT_MIN (default 45 min), well inside CI's 90.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';

function collect(dir) {
  const found = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...collect(path));
    else if (entry.name.endsWith('.test.js')) found.push(path);
  }
  return found;
}

const filters = process.argv.slice(2);
const files = collect('dist')
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}

const testTimeoutMs = Number(process.env.TEST_TIMEOUT_MS ?? 600_000);
const runTimeoutMs = Number(process.env.TEST_RUN_TIMEOUT_MIN ?? 45) * 60_000;
const runner = spawn(
  process.execPath,
  [
    '--test',
    '--test-reporter=spec',
    `--test-concurrency=${process.env.TEST_CONCURRENCY ?? 2}`,
    `--test-timeout=${testTimeoutMs}`,
    '--test-force-exit',
    ...files,
  ],
  // its own process group, so that the watchdog can stop the test files' processes with it
  { stdio: 'inherit', detached: true },
);
const stopGroup = (signal) => {
  try {
    process.kill(-runner.pid, signal);
  } catch {
    // already gone
  }
};
const watchdog = setTimeout(() => {
  console.error(`\nThe test run took longer than ${runTimeoutMs / 60_000} min and was stopped; the file after the last one reported did not finish.`);
  stopGroup('SIGKILL');
}, runTimeoutMs);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => stopGroup(signal));
runner.on('exit', (code) => {
  clearTimeout(watchdog);
  process.exit(code ?? 1);
});
