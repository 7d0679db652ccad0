/**
 * docs/status-codes.md is generated from the status registry; this test fails when they drift.
 * Regenerate with `npm run docs`.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { STATUS } from '../src/messenger/status.js';

const DOC = fileURLToPath(new URL('../../docs/status-codes.md', import.meta.url));

function render(): string {
  const rows = Object.entries(STATUS).map(([name, { code, message }]) => `| ${code} | \`${name}\` | ${message} |`);
  return [
    '# NET_API_STATUS codes',
    '',
    '<!-- generated from src/messenger/status.ts by `npm run docs`; do not edit by hand -->',
    '',
    'The numbers netsend returns (library), prints (CLI, with the name) and sends (`--json`,',
    'control socket), with the words the original Windows API used.',
    '',
    '| status | name | meaning |',
    '| --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}

test('docs/status-codes.md lists every status of the registry, with its number and words', async () => {
  if (process.env.UPDATE_DOCS === '1') await writeFile(DOC, render());
  assert.equal(await readFile(DOC, 'utf8'), render(), 'docs/status-codes.md is stale: run `npm run docs`');
});

test("the README's settings table has a row for every setting, with its flag and environment variable", async () => {
  const { SETTINGS, envName, flagName } = await import('../src/config/settings.js');
  const readme = await readFile(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');
  for (const [name, spec] of Object.entries(SETTINGS)) {
    const key = name as keyof typeof SETTINGS;
    assert.ok(readme.includes(`| \`${spec.key}\` | \`--${flagName(key)}\` | \`${envName(key)}\` |`), `README lacks the row of "${spec.key}"`);
  }
});
