#!/usr/bin/env node
// Builds one release of sea-app: bundles src/main.ts (with the notsotuf client) into one CommonJS file, turns it
// into a Node single-executable application (a copy of this node binary with the app injected by postject), and
// lays out the release directory that `notsotuf release add` archives:
//
//   <out>/bin/sea-app            the executable (no Node needed to run it)
//   <out>/share/sea-app/VERSION  an asset shipped beside it
//
// Usage: node examples/sea-app/build.mjs --version 1.0.0 --root <root.json> --out <dir> [--url <repo url>]
//          [--feature status] [--crash]
import { spawnSync } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '..', '..');
/** The fuse Node's SEA loader looks for (fixed by Node; see its single-executable-applications docs). */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

export async function buildSeaApp({
  version,
  root,
  out,
  url = 'http://127.0.0.1:8080',
  crash = false,
  features = [],
}) {
  const { build } = await import('esbuild');
  const { inject } = await import('postject');
  const work = await mkdtemp(join(tmpdir(), 'sea-app-build-'));
  try {
    const bundle = join(work, 'app.cjs');
    await build({
      entryPoints: [join(here, 'src', 'main.ts')],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      outfile: bundle,
      // The app imports notsotuf as a user would; here that is this repository's build.
      alias: {
        'notsotuf/client': join(repoRoot, 'dist', 'client', 'index.js'),
        'supports-color': join(here, 'src', 'no-supports-color.cjs'),
      },
      // Publisher-only modules the client never loads.
      external: ['lzma-native', '@aws-sdk/*'],
      define: {
        APP_VERSION: JSON.stringify(version),
        TRUSTED_ROOT: JSON.stringify(await readFile(root, 'utf8')),
        UPDATE_URL: JSON.stringify(url),
        CRASH_ON_START: String(crash),
        FEATURE_STATUS: String(features.includes('status')),
      },
      logLevel: 'error',
      legalComments: 'none',
    });
    const blob = join(work, 'sea.blob');
    await writeFile(
      join(work, 'sea-config.json'),
      JSON.stringify({ main: bundle, output: blob, disableExperimentalSEAWarning: true }),
    );
    const made = spawnSync(process.execPath, ['--experimental-sea-config', join(work, 'sea-config.json')], {
      encoding: 'utf8',
    });
    if (made.status !== 0) throw new Error(`node --experimental-sea-config failed: ${made.stderr}`);
    const exe = join(out, 'bin', 'sea-app');
    await rm(out, { recursive: true, force: true });
    await mkdir(dirname(exe), { recursive: true });
    await copyFile(process.execPath, exe);
    await inject(exe, 'NODE_SEA_BLOB', await readFile(blob), { sentinelFuse: SEA_FUSE });
    await chmod(exe, 0o755);
    await mkdir(join(out, 'share', 'sea-app'), { recursive: true });
    await writeFile(join(out, 'share', 'sea-app', 'VERSION'), `${version}\n`);
    return { exe, bundleBytes: (await readFile(bundle)).length };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      version: { type: 'string' },
      root: { type: 'string' },
      out: { type: 'string' },
      url: { type: 'string' },
      crash: { type: 'boolean', default: false },
      feature: { type: 'string', multiple: true, default: [] },
    },
  });
  if (!values.version || !values.root || !values.out) {
    console.error(
      'usage: build.mjs --version <v> --root <root.json> --out <dir> [--url <url>] [--feature status] [--crash]',
    );
    process.exit(64);
  }
  const { feature, ...rest } = values;
  const { exe, bundleBytes } = await buildSeaApp({ ...rest, features: feature, out: resolve(values.out) });
  console.log(`built ${exe} (app bundle ${bundleBytes} bytes)`);
}
