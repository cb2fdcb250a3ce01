#!/usr/bin/env node
/**
 * Builds `@notsotuf/client`, the package an app embeds, from this checkout's dist/: only the modules the client
 * reaches (its entry points and everything they import, found by walking the imports of the built files), so an
 * app that installs it gets tuf-js and nothing of the publisher (no commander, no AWS SDK).
 *
 *   node scripts/build-client-package.mjs [--out <dir>]     default out: packages/client
 *
 * Fails when the client's modules import a package the client package does not declare: that is the guard that
 * keeps the publisher's dependencies out of apps. Run `npm run build` first (npm run build:client does both).
 */
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'dist');
export const CLIENT_PACKAGE_NAME = '@notsotuf/client';

/** The entry points of the client package: the library, the entry-point launcher, the hand-over helper. */
const ENTRIES = ['client/index.js', 'install/launcher/main.js', 'install/handover/main.js'];
/** Packages the client may import, with where their version comes from in the root package.json. */
const DEPENDENCIES = ['tuf-js', '@tufjs/models', '@tufjs/canonical-json'];
// Reached but never loaded by a client: lzma-native compresses when a patch is *made* (a dynamic import in
// patch/lzma/encoder.js); applying one decodes in JavaScript. So the client package does not install it.
const PUBLISHER_ONLY_LAZY = ['lzma-native'];

// Import and export statements (tsc emits each from the start of a line), side-effect imports, and dynamic
// imports and `import("…")` types with a literal specifier; comments are stripped first.
const IMPORT_RES = [
  /^\s*(?:import|export)\b[^;'"]*?\bfrom\s*['"]([^'"]+)['"]/gm,
  /^\s*import\s*['"]([^'"]+)['"]/gm,
  /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
];

function specifiers(code) {
  const text = code.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  return IMPORT_RES.flatMap((re) => [...text.matchAll(re)].map((m) => m[1]));
}

function packageOf(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

const isBuiltin = (s) => s.startsWith('node:') || builtinModules.includes(s);

/** Every dist file reachable from `entries` (relative paths) and the bare packages they import. */
export function importClosure(distDir, entries) {
  const files = new Set();
  const packages = new Map(); // package → first file importing it
  const queue = [...entries];
  while (queue.length > 0) {
    const rel = queue.pop();
    if (files.has(rel)) continue;
    const path = join(distDir, rel);
    if (!existsSync(path)) throw new Error(`${rel} is missing from ${distDir}: run npm run build first.`);
    files.add(rel);
    for (const spec of specifiers(readFileSync(path, 'utf8'))) {
      if (spec.startsWith('.')) {
        queue.push(
          relative(distDir, resolve(dirname(path), spec))
            .split('\\')
            .join('/'),
        );
        // The declarations of a module come with it (and may import more, for their types).
        if (rel.endsWith('.js') && spec.endsWith('.js')) {
          const dts = relative(distDir, resolve(dirname(path), spec.replace(/\.js$/, '.d.ts')));
          queue.push(dts.split('\\').join('/'));
        }
      } else if (!isBuiltin(spec) && !packages.has(packageOf(spec))) {
        packages.set(packageOf(spec), rel);
      }
    }
    if (rel.endsWith('.js')) queue.push(rel.replace(/\.js$/, '.d.ts'));
  }
  return { files: [...files].sort(), packages };
}

function pick(record, names) {
  return Object.fromEntries(names.filter((n) => record?.[n]).map((n) => [n, record[n]]));
}

function clientManifest(root, imported) {
  const used = (names) => names.filter((n) => imported.includes(n));
  return {
    name: CLIENT_PACKAGE_NAME,
    version: root.version,
    description:
      'The notsotuf client an app embeds: check, download (patch or full), verify through TUF, install, roll back',
    license: root.license,
    type: 'module',
    engines: root.engines,
    bin: { 'notsotuf-launch': 'dist/install/launcher/main.js' },
    main: './dist/client/index.js',
    types: './dist/client/index.d.ts',
    exports: {
      '.': { types: './dist/client/index.d.ts', default: './dist/client/index.js' },
      './package.json': './package.json',
    },
    files: ['dist', 'README.md', 'LICENSE'],
    dependencies: pick(root.dependencies, used(DEPENDENCIES)),
  };
}

const README = `# @notsotuf/client

The half of [notsotuf](https://www.npmjs.com/package/notsotuf) that an app embeds: check for updates, download the
cheapest verified path (patch chain or full archive) through tuf-js, rebuild and verify the new archive, extract
it safely, install it (in place or in the atomic versioned layout) and roll back an unhealthy version.

\`\`\`js
import { Client } from '@notsotuf/client';
\`\`\`

It is the same code as \`notsotuf/client\`, without the publisher: installing it pulls in tuf-js and its
dependencies only (the publisher CLI, commander and the AWS SDK stay in \`notsotuf\`, a dev dependency of the
project that publishes). The package is ES modules; from CommonJS use \`await import('@notsotuf/client')\`, or
\`require('@notsotuf/client')\` on Node 20.19+ / 22.12+. Documentation: the notsotuf README and docs/client.md.
`;

/** Throws when the client imports a package the client package does not declare (commander, the AWS SDK, …). */
export function checkClientImports(packages) {
  const allowed = new Set([...DEPENDENCIES, ...PUBLISHER_ONLY_LAZY]);
  const foreign = [...packages].filter(([name]) => !allowed.has(name));
  if (foreign.length > 0) {
    const list = foreign.map(([name, file]) => `${name} (imported by dist/${file})`).join(', ');
    throw new Error(`The client imports packages the client package must not depend on: ${list}.`);
  }
}

export function buildClientPackage(outDir) {
  const root = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const { files, packages } = importClosure(DIST, ENTRIES);
  checkClientImports(packages);
  rmSync(outDir, { recursive: true, force: true });
  for (const rel of files) {
    mkdirSync(dirname(join(outDir, 'dist', rel)), { recursive: true });
    cpSync(join(DIST, rel), join(outDir, 'dist', rel));
  }
  writeFileSync(
    join(outDir, 'package.json'),
    `${JSON.stringify(clientManifest(root, [...packages.keys()]), null, 2)}\n`,
  );
  writeFileSync(join(outDir, 'README.md'), README);
  cpSync(join(ROOT, 'LICENSE'), join(outDir, 'LICENSE'));
  return { outDir, files: files.length, packages: [...packages.keys()].sort() };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf('--out');
  const outDir = resolve(at > 0 ? process.argv[at + 1] : join(ROOT, 'packages', 'client'));
  try {
    const result = buildClientPackage(outDir);
    console.log(
      `${CLIENT_PACKAGE_NAME}: ${result.files} files in ${relative(process.cwd(), outDir) || '.'}; imports ${result.packages.join(', ')}`,
    );
  } catch (err) {
    console.error(`build-client-package: ${err.message}`);
    process.exitCode = 1;
  }
}
