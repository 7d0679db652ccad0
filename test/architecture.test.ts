/**
 * The arrows of the house run one way: a file in src/ imports its own layer or lower ones, never
 * a higher one. Reads every source file (tests and their helpers aside), follows each relative
 * import, export-from and import() to the folder under src/ it lands in, and names each arrow
 * that runs upwards.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../../src', import.meta.url));

/**
 * Bottom to top; folders on one line are one layer and may import each other.
 * - config sits above the domain: it checks settings with the domain's name rules (aliasProblem,
 *   scopeProblem, accountNameProblem), while the domain is given values and never reads config.
 * - os (utmp, getent, the host's interfaces) is the room of thin OS adapters below everything that
 *   uses them (sinks, security, transports); it reads only config.
 * - policy (rate limiting) belongs to the domain; control (the operations) sits on security and is
 *   served by the transports; resolve (name sources) sits beside the transports it routes to, and
 *   hub (the organisation hub on NATS) is one more way between hosts, beside them.
 * - web (HTTP API and inbox) is a part the daemon starts, as it starts the transports, so it sits
 *   below the daemon, the composition root; cli and lib are the top.
 */
const LAYERS: readonly (readonly string[])[] = [
  ['protocols'],
  ['messenger', 'policy'],
  ['config'],
  ['os'],
  ['security'],
  ['control'],
  ['transports', 'resolve', 'hub'],
  ['store'],
  ['sinks'],
  ['web'],
  ['daemon'],
  ['cli', 'lib'],
];
const RANK = new Map(LAYERS.flatMap((folders, rank) => folders.map((folder) => [folder, rank] as const)));

/** Tests and their helpers may reach anywhere to set things up. */
const isTest = (path: string) => /\.test(\.[\w-]+)?\.ts$/.test(path);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') && !isTest(entry.name) ? [path] : [];
  });
}

/** The relative specifiers of `import … from`, `export … from`, `import '…'` and `import('…')`, comments left out. */
function relativeImports(text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  return [...code.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(['"])(\.{1,2}\/[^'"]+)\1/g)].map((m) => m[2] as string);
}

/** The folder under src/ a path is in ('' for a file at src/ itself), or null outside src/. */
function topFolder(path: string): string | null {
  const rel = relative(SRC, path);
  if (rel.startsWith('..')) return null;
  const parts = rel.split(sep);
  return parts.length > 1 ? (parts[0] as string) : '';
}

test('the import scanner finds static, re-exported, side-effect and dynamic relative imports, not comments or packages', () => {
  const text = [
    "import { a } from './a.js';",
    "import type { B } from '../b/b.js';",
    "export { c } from '../c/index.js';",
    "import '../d/side-effect.js';",
    "const e = await import('../e/lazy.js');",
    "import fs from 'node:fs';",
    "// import { x } from '../commented/out.js';",
    "/** see `import { y } from '../doc/example.js'` */",
  ].join('\n');
  assert.deepEqual(relativeImports(text), ['./a.js', '../b/b.js', '../c/index.js', '../d/side-effect.js', '../e/lazy.js']);
});

test('every folder of src/ has a layer', () => {
  const folders = readdirSync(SRC, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  assert.deepEqual(folders.filter((f) => !RANK.has(f)), [], 'place each new folder of src/ in LAYERS (test/architecture.test.ts)');
});

test('imports run one way: no file in src/ imports a layer above its own', () => {
  const upwards: string[] = [];
  for (const file of sourceFiles(SRC)) {
    const from = topFolder(file) as string;
    for (const specifier of relativeImports(readFileSync(file, 'utf8'))) {
      const target = resolve(dirname(file), specifier);
      const to = topFolder(target);
      if (to === null || to === from) continue;
      const [a, b] = [RANK.get(from), RANK.get(to)];
      // a file at src/ itself, or an unknown folder, is reported by the test above or here
      if (a === undefined || b === undefined || b > a) {
        upwards.push(`src/${relative(SRC, file).split(sep).join('/')} imports ${specifier} (${from || 'src'} -> ${to || 'src'})`);
      }
    }
  }
  assert.deepEqual(upwards, [], `imports that run upwards:\n  ${upwards.join('\n  ')}`);
});
