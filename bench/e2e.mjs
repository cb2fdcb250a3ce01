#!/usr/bin/env node
/**
 * The end-to-end client update of issue 20 (items 4 and 5): check → download → patch → verify → install of the
 * largest corpus pair, from a repository served on loopback, for each patch codec and for the full archive, with
 * the time of every phase (the client's `timing` events).
 *
 * Reference (tufup stand-in): tufup cannot run here (PyPI is unreachable), so its patch route is stood in for by
 * the same steps done by native tools on the same files: `gzip -dc` of the cached base archive, Debian `bspatch`
 * (the BSDIFF40 format and the C algorithm of tufup's bsdiff4, with libbz2) and `sha256sum` of the result; its
 * full route by `gzip -dc` and `sha256sum`. Download, metadata and extraction are left out of the reference
 * (they are the same work for both clients), so the comparison is on the rebuild steps alone.
 *
 * The publisher repositories (one per codec, expiry 10 years) are cached in <cache>/e2e/ and reused while the
 * corpus tars are unchanged: making the bsdiff4 patch of `big` takes minutes.
 *
 * Standalone: node bench/e2e.mjs [--pair big] [--codec bsdiff4,notsotuf] [--repeat N] [--fresh-e2e]
 */
import { execFileSync, spawn } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cacheDir } from './corpus.mjs';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => import(pathToFileURL(join(REPO, 'dist', p)).href);
const LONG_EXPIRY = { root: 3650, targets: 3650, snapshot: 3650, timestamp: 3650 };
/** Bumped when the cached repositories must be rebuilt (their layout or how they are made changed). */
const REPO_FORMAT = 1;

function log(msg) {
  process.stderr.write(`[bench e2e ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

function seconds(since) {
  return Number(process.hrtime.bigint() - since) / 1e9;
}

/** A publisher repository with the pair's old (1.0.0) and new (2.0.0, patched with `codec`) releases. */
async function ensureRepo(pair, files, codec, fresh) {
  const dir = join(cacheDir(), 'e2e', `${pair}-${codec}`);
  const keyPath = join(dir, 'key.json');
  // A notsotuf repository is rebuilt when the patch format changes (a new format makes different patches).
  const codecFormat =
    codec === 'notsotuf' ? (await dist('patch/notsotuf/format.js')).MAGIC.at(-1) : undefined;
  const key = { format: REPO_FORMAT, codec, codecFormat, old: files.old.sha256, new: files.new.sha256 };
  if (!fresh && existsSync(keyPath)) {
    const found = JSON.parse(await readFile(keyPath, 'utf8'));
    if (JSON.stringify(found.key) === JSON.stringify(key)) return { dir, ...found.info, cached: true };
  }
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const { initRepository, Repository } = await dist('repo/index.js');
  await initRepository({ appName: 'app', cwd: dir, encryptKeys: false, expirationDays: LONG_EXPIRY });
  const repo = await Repository.open({ cwd: dir });
  const bundles = join(cacheDir(), 'bundles');
  log(`${pair}/${codec}: publishing 1.0.0`);
  await repo.addRelease({ bundleDir: join(bundles, `${pair}-old`), version: '1.0.0' });
  log(`${pair}/${codec}: publishing 2.0.0 with a ${codec} patch (minutes for bsdiff4)`);
  const t = process.hrtime.bigint();
  await repo.addRelease({ bundleDir: join(bundles, `${pair}-new`), version: '2.0.0', patchCodec: codec });
  const info = { publishSeconds: seconds(t) };
  await writeFile(keyPath, `${JSON.stringify({ key, info }, null, 2)}\n`);
  return { dir, ...info, cached: false };
}

/** The signed targets of a repository: name → { path on disk, length, tar size }. */
async function targetsOf(repoDir) {
  const meta = join(repoDir, 'repository', 'metadata');
  const targets = JSON.parse(await readFile(join(meta, 'targets.json'), 'utf8'));
  const root = JSON.parse(await readFile(join(meta, '1.root.json'), 'utf8'));
  const out = {};
  for (const [name, t] of Object.entries(targets.signed.targets)) {
    const sha = t.hashes.sha256;
    const file = root.signed.consistent_snapshot ? `${sha}.${name}` : name;
    out[name] = {
      path: join(repoDir, 'repository', 'targets', file),
      length: t.length,
      tarSize: t.custom?.tufup?.notsotuf?.tar_size ?? t.custom?.notsotuf?.tar_size,
    };
  }
  return out;
}

/**
 * What an earlier update leaves: the old release extracted in the install dir, and its verified tar kept in the
 * client cache (`app-1.0.0.tar`, CacheDir.baseTarPath), the base of the next patch update. (tufup keeps the
 * `.tar.gz`, which the reference decompresses.)
 */
async function installOld(runDir, archive) {
  const { gunzipToFile, extractTar } = await dist('archive/index.js');
  await rm(runDir, { recursive: true, force: true });
  const installDir = join(runDir, 'app');
  const cache = join(runDir, 'cache');
  await mkdir(join(cache, 'targets'), { recursive: true });
  const tar = join(cache, 'targets', 'app-1.0.0.tar');
  await gunzipToFile(archive.path, tar);
  await extractTar(tar, installDir);
  return { installDir, cache };
}

/** A client of the served repository for an app installed at 1.0.0 (archive in its cache), in `runDir`. */
async function clientAt100(server, repoDir, runDir, targets, extra) {
  const { Client } = await dist('client/index.js');
  const { installDir, cache } = await installOld(runDir, targets['app-1.0.0.tar.gz']);
  const client = new Client({
    appName: 'app',
    currentVersion: '1.0.0',
    installDir,
    cacheDir: cache,
    metadataUrl: `${server.url}/metadata/`,
    targetsUrl: `${server.url}/targets/`,
    trustedRoot: { path: join(repoDir, 'metadata', '1.root.json') },
    ...extra,
  });
  return { client, installDir, cache };
}

/** One client update 1.0.0 → 2.0.0; returns the wall time of each call and the client's phases. */
async function clientUpdate(server, repoDir, runDir, targets, allowPatches, downloadRate) {
  const { client, installDir } = await clientAt100(server, repoDir, runDir, targets, {
    allowPatches,
    ...(downloadRate ? { downloadRate } : {}),
  });
  const phases = {};
  client.on('timing', ({ phase, ms }) => {
    phases[phase] = (phases[phase] ?? 0) + ms / 1000;
  });
  const calls = {};
  // CPU of this process (the client's main thread and libuv's pool: zlib, hashing, file I/O), user + sys.
  const cpu0 = process.cpuUsage();
  let t = process.hrtime.bigint();
  const info = await client.checkForUpdates();
  calls.check = seconds(t);
  t = process.hrtime.bigint();
  const download = await client.downloadUpdate();
  calls.download = seconds(t);
  t = process.hrtime.bigint();
  await client.installUpdate();
  calls.install = seconds(t);
  calls.total = calls.check + calls.download + calls.install;
  const cpu = process.cpuUsage(cpu0);
  calls.cpu = (cpu.user + cpu.system) / 1e6;
  // The big pair's new side has typescript 5.6.3 (old: 5.6.2): proof that the new release is what got installed.
  const pkg = join(installDir, 'lib', 'node_modules', 'typescript', 'package.json');
  const version = JSON.parse(await readFile(pkg, 'utf8').catch(() => '{}')).version ?? null;
  await rm(runDir, { recursive: true, force: true });
  return { method: download.method, planned: info?.method, bytes: download.bytes, calls, phases, version };
}

/** Runs a command with stdout to a file (or discarded); returns its wall time in seconds. */
function timedCommand(cmd, args, stdoutFile) {
  return new Promise((ok, fail) => {
    const t = process.hrtime.bigint();
    const child = spawn(cmd, args, { stdio: ['ignore', stdoutFile ? 'pipe' : 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => {
      err += d;
    });
    const done = stdoutFile ? pipeline(child.stdout, createWriteStream(stdoutFile)) : Promise.resolve();
    child.on('error', fail);
    child.on('close', async (code) => {
      await done.catch(() => {});
      if (code === 0) ok(seconds(t));
      else fail(new Error(`${cmd} ${args.join(' ')}: exit ${code}: ${err.slice(0, 300)}`));
    });
  });
}

function which(cmd) {
  try {
    return execFileSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

/** The native stand-in for tufup's rebuild steps (see the header comment). */
async function reference(targets, patchName, work) {
  await mkdir(work, { recursive: true });
  const base = join(work, 'base.tar');
  const out = join(work, 'new.tar');
  const r = {};
  r.gunzipBase = await timedCommand('gzip', ['-dc', targets['app-1.0.0.tar.gz'].path], base);
  if (patchName && which('bspatch'))
    r.bspatch = await timedCommand('bspatch', [base, out, targets[patchName].path]);
  else await timedCommand('gzip', ['-dc', targets['app-2.0.0.tar.gz'].path], out);
  r.sha256 = await timedCommand('sha256sum', [out]);
  r.gunzipNew = await timedCommand('gzip', ['-dc', targets['app-2.0.0.tar.gz'].path], join(work, 'full.tar'));
  await rm(work, { recursive: true, force: true });
  return {
    ...r,
    // tufup's patch route rebuilds from the cached archive; its full route only decompresses what it downloaded.
    patchRoute: r.bspatch == null ? null : r.gunzipBase + r.bspatch + r.sha256,
    fullRoute: r.gunzipNew + r.sha256,
  };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : null;
};

/**
 * The e2e benchmark of `pair` for `codecs`: per codec, the patch update, the full update (same repository), and
 * the native reference, `repeat` times each (the median is reported). Returns a JSON-able result.
 */
export async function benchEndToEnd({ pair, files, codecs, repeat = 1, fresh = false }) {
  const { serveDirectory } = await dist('server/static-server.js');
  const out = { pair, repeat, codecs: [] };
  for (const codec of codecs) {
    const repo = await ensureRepo(pair, files, codec, fresh);
    const repoDir = join(repo.dir, 'repository');
    const targets = await targetsOf(repo.dir);
    const patchName = 'app-2.0.0.patch';
    const server = await serveDirectory({ root: repoDir });
    const entry = {
      codec,
      patchBytes: targets[patchName]?.length ?? null,
      archiveBytes: targets['app-2.0.0.tar.gz'].length,
      tarBytes: targets['app-2.0.0.tar.gz'].tarSize ?? files.new.size,
      publishSeconds: repo.publishSeconds,
      repoCached: repo.cached,
      runs: { patch: [], full: [], plan: [] },
      reference: [],
    };
    try {
      const runDir = join(cacheDir(), 'e2e', 'run');
      for (let i = 0; i < repeat; i++) {
        // Alternate the order so that a load change on the machine hits both modes alike.
        const modes = i % 2 === 0 ? ['patch', 'full'] : ['full', 'patch'];
        for (const mode of modes) {
          log(`${pair}/${codec}: ${mode} update, run ${i + 1}/${repeat}`);
          // A rate of 1 byte/s makes the plan take the patch whenever tufup's size ratio allows it: the patch
          // route is forced here to time it; what the plan chooses at real rates is measured below.
          const r = await clientUpdate(server, repoDir, runDir, targets, mode === 'patch', 1);
          if (r.version !== null && r.version !== '5.6.3')
            throw new Error(`${mode} update left ${r.version}`);
          if (r.method !== mode) log(`${pair}/${codec}: the ${mode} run went by ${r.method}`);
          log(`${pair}/${codec}: ${mode} ${r.calls.total.toFixed(2)} s ${fmtPhases(r.phases)}`);
          entry.runs[mode].push(r);
        }
        log(`${pair}/${codec}: reference (gzip -dc, bspatch, sha256sum)`);
        // bspatch reads only the bsdiff4 codec's patches; the notsotuf codec is compared with the bsdiff4
        // entry's reference below (same tars, same machine, same run).
        entry.reference.push(
          await reference(targets, codec === 'bsdiff4' ? patchName : null, join(runDir, 'ref')),
        );
      }
      // What the plan decides on this machine at a few download rates (check only, no download).
      for (const rate of [1e6, 10e6, 100e6, 1e9]) {
        entry.runs.plan.push({ rate, ...(await planAt(server, repoDir, runDir, targets, rate)) });
      }
    } finally {
      await server.close();
    }
    out.codecs.push(entry);
  }
  const bs = out.codecs.find((c) => c.codec === 'bsdiff4');
  for (const entry of out.codecs) entry.summary = summarize(entry, bs?.reference ?? []);
  return out;
}

async function planAt(server, repoDir, runDir, targets, downloadRate) {
  const { client } = await clientAt100(server, repoDir, runDir, targets, { downloadRate });
  const info = await client.checkForUpdates();
  await rm(runDir, { recursive: true, force: true });
  return { method: info?.method?.kind, reason: info?.method?.reason, estimate: info?.method?.estimate };
}

function summarize(entry, bsdiffReference) {
  const med = (runs, f) => median(runs.map(f));
  const patch = med(entry.runs.patch, (r) => r.calls.total);
  const full = med(entry.runs.full, (r) => r.calls.total);
  const refPatch = median(
    [...entry.reference, ...bsdiffReference].map((r) => r.patchRoute).filter((x) => x != null),
  );
  const refFull = median(entry.reference.map((r) => r.fullRoute));
  const phase = (runs, p) => med(runs, (r) => r.phases[p] ?? 0);
  // The rebuild steps of our routes, the part the reference stands in for (download, metadata, extraction and
  // install excluded).
  const rebuildPatch = phase(entry.runs.patch, 'inspect-base') + phase(entry.runs.patch, 'apply');
  const rebuildFull = phase(entry.runs.full, 'unpack');
  return {
    patchSeconds: patch,
    fullSeconds: full,
    patchOverFull: patch != null && full ? patch / full : null,
    patchCpuSeconds: med(entry.runs.patch, (r) => r.calls.cpu),
    fullCpuSeconds: med(entry.runs.full, (r) => r.calls.cpu),
    rebuildPatchSeconds: rebuildPatch,
    rebuildFullSeconds: rebuildFull,
    referencePatchSeconds: refPatch,
    referenceFullSeconds: refFull,
    patchOverReference: refPatch ? rebuildPatch / refPatch : null,
    fullOverReference: refFull ? rebuildFull / refFull : null,
    applySeconds: phase(entry.runs.patch, 'apply'),
    bspatchSeconds: median(bsdiffReference.map((r) => r.bspatch).filter((x) => x != null)),
  };
}

function fmtPhases(phases) {
  return Object.entries(phases)
    .map(([k, v]) => `${k}=${v.toFixed(2)}`)
    .join(' ');
}

/** Phases in the order they happen. */
export const PHASES = ['refresh', 'inspect-base', 'download', 'apply', 'unpack', 'extract', 'install'];

const fmtS = (s) => (s == null ? '—' : `${s.toFixed(2)} s`);
const fmtR = (r) => (r == null || !Number.isFinite(r) ? '—' : `${r.toFixed(2)}×`);

/** Markdown tables of an e2e result. */
export function e2eMarkdown(e2e) {
  const lines = [
    `### End-to-end client update on \`${e2e.pair}\` (loopback, median of ${e2e.repeat})`,
    '',
    'check → download → rebuild → verify → extract → install, from a notsotuf repository served on 127.0.0.1 by ' +
      '`serveDirectory`, installed in place. "reference" is the tufup stand-in: tufup cannot run here (no PyPI), so ' +
      'its rebuild steps are timed with native tools on the same files: `gzip -dc` of the cached base archive + ' +
      "Debian `bspatch` (tufup's bsdiff4 is the same C algorithm and format, with libbz2) + `sha256sum`; for the full " +
      'route `gzip -dc` + `sha256sum`. The client starts as an earlier update leaves it: the verified tar of 1.0.0 kept in its cache ' +
      '(tufup keeps the .tar.gz). The ratios to the reference compare our rebuild phases (inspect-base (hashing the kept tar) + ' +
      'apply (hashing the result in the same pass), or unpack) with those steps; download, metadata, extraction and install are the same work for both clients.',
    '',
    '| codec | patch | archive | patch update | full update | patch / full | CPU patch / full | our apply | bspatch | our rebuild / reference (patch) | (full) |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  const mb = (n) => (n == null ? '—' : `${(n / 1e6).toFixed(2)} MB`);
  for (const c of e2e.codecs) {
    const s = c.summary;
    lines.push(
      `| ${c.codec} | ${mb(c.patchBytes)} | ${mb(c.archiveBytes)} | ${fmtS(s.patchSeconds)} | ${fmtS(s.fullSeconds)} | ${fmtR(s.patchOverFull)} | ${fmtS(s.patchCpuSeconds)} / ${fmtS(s.fullCpuSeconds)} | ${fmtS(s.applySeconds)} | ${fmtS(s.bspatchSeconds)} | ${fmtR(s.patchOverReference)} (${fmtS(s.rebuildPatchSeconds)} vs ${fmtS(s.referencePatchSeconds)}) | ${fmtR(s.fullOverReference)} (${fmtS(s.rebuildFullSeconds)} vs ${fmtS(s.referenceFullSeconds)}) |`,
    );
  }
  lines.push('', "Where the time goes (seconds, median per phase; the client's `timing` events):", '');
  lines.push(
    `| codec / route | ${PHASES.join(' | ')} | check() | downloadUpdate() | installUpdate() | total |`,
  );
  lines.push(`|---|${PHASES.map(() => '--:').join('|')}|--:|--:|--:|--:|`);
  for (const c of e2e.codecs) {
    for (const mode of ['patch', 'full']) {
      const runs = c.runs[mode];
      if (!runs.length) continue;
      const cells = PHASES.map((p) => {
        const v = median(runs.map((r) => r.phases[p] ?? 0));
        return v ? v.toFixed(2) : '';
      });
      const call = (k) => median(runs.map((r) => r.calls[k])).toFixed(2);
      lines.push(
        `| ${c.codec} / ${mode} | ${cells.join(' | ')} | ${call('check')} | ${call('download')} | ${call('install')} | ${call('total')} |`,
      );
    }
  }
  lines.push('', 'Targets (issue 20, item 5):', '');
  for (const c of e2e.codecs) {
    const s = c.summary;
    const t = (ok, text) =>
      lines.push(`- **${ok == null ? 'n/a' : ok ? 'pass' : 'FAIL'}** ${c.codec}: ${text}`);
    t(
      s.patchOverFull == null ? null : s.patchOverFull <= 2,
      `patch update ≤ 2 × full update (${fmtR(s.patchOverFull)})`,
    );
    t(
      s.patchOverReference == null ? null : s.patchOverReference <= 1,
      `patch rebuild no slower than the tufup stand-in (${fmtR(s.patchOverReference)})`,
    );
    t(
      s.fullOverReference == null ? null : s.fullOverReference <= 1,
      `full rebuild no slower than the tufup stand-in (${fmtR(s.fullOverReference)})`,
    );
  }
  lines.push('', 'What the plan chooses here (check only) at a given download rate:', '');
  lines.push('| codec | rate | method | reason | estimate patch / full |', '|---|--:|---|---|--:|');
  for (const c of e2e.codecs) {
    for (const p of c.runs.plan) {
      const e = p.estimate;
      lines.push(
        `| ${c.codec} | ${(p.rate / 1e6).toFixed(0)} MB/s | ${p.method ?? '—'} | ${p.reason ?? ''} | ${e ? `${fmtS(e.patchSeconds)} / ${fmtS(e.fullSeconds)}` : '—'} |`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const flag = (name, dflt) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : dflt;
  };
  const pair = flag('--pair', 'big');
  const { buildCorpus } = await import('./corpus.mjs');
  const corpus = await buildCorpus({ pairs: [pair] });
  if (args.includes('--setup-only')) {
    for (const codec of flag('--codec', 'bsdiff4,notsotuf').split(','))
      log(JSON.stringify(await ensureRepo(pair, corpus[pair], codec, args.includes('--fresh-e2e'))));
    process.exit(0);
  }
  const e2e = await benchEndToEnd({
    pair,
    files: corpus[pair],
    codecs: flag('--codec', 'bsdiff4,notsotuf').split(','),
    repeat: Number(flag('--repeat', '1')),
    fresh: args.includes('--fresh-e2e'),
  });
  const md = e2eMarkdown(e2e);
  const outDir = join(REPO, 'bench', 'results');
  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, 'e2e-partial.json'), `${JSON.stringify(e2e, null, 2)}\n`);
  await writeFile(join(outDir, 'e2e-partial.md'), md);
  process.stdout.write(`\n${md}\nWritten: bench/results/e2e-partial.{json,md}\n`);
}
