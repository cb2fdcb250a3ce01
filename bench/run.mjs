#!/usr/bin/env node
/**
 * The patch benchmark of issue 3: every delta tool on every corpus pair, in one run (`npm run bench`).
 *
 * For each pair and tool: patch bytes, diff seconds and peak RSS, apply seconds and peak RSS (GNU time), and a
 * sha256 check that the applied result is byte-identical to new.tar. Also the size of the full new tar under
 * gzip -9, zstd -19 --long=27 and brotli (node:zlib, quality 11, lgwin 24; skipped for tars over
 * BROTLI_MAX_BYTES unless already cached or --brotli-all). The targets of issue 20 (item 2) are checked for the
 * notsotuf codec on every pair: patch ≤ 0.75 × bsdiff, create time ≤ 0.3 × bsdiff's, apply time ≤ 1.5 × bspatch's,
 * apply peak RSS ≤ 64 MiB (node included) and a byte-identical result.
 *
 * Flags (for quick iterations; the default is everything):
 *   --only ts,es          only these pairs (default: every pair of PAIRS in corpus.mjs)
 *   --skip-tool a,b       skip tools: bsdiff xdelta3 zstd bsdiff4 notsotuf gzip zstd-full brotli
 *   --no-install          do not apt-get install missing Debian tools
 *   --timeout-min N       kill a single command after N minutes (default 60)
 *   --fresh-full          recompute the full-tar compressions (gzip, zstd-full, brotli) instead of reusing them
 *   --brotli-all          also compress tars over BROTLI_MAX_BYTES with brotli q11 (many minutes each)
 *   --no-e2e              skip the end-to-end client update (bench/e2e.mjs) of the largest pair in the run
 *   --e2e-repeat N        client updates per mode and codec (default 3; the median is reported)
 *   --fresh-e2e           rebuild the cached e2e repositories
 * The full-tar compressions are reference sizes of a fixed input: they are cached in <cache>/full-compression.json,
 * keyed by tool, tool version and the tar's sha256 (brotli q11 alone takes ~15 min on `big` here, so it is skipped
 * for large tars that have no cached size).
 * A full run writes bench/results/latest.{json,md}; a run with --only/--skip-tool writes partial.{json,md}.
 * Corpus cache: $NOTSOTUF_BENCH_CACHE or ~/.cache/notsotuf-bench (see corpus.mjs).
 */
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, statSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildCorpus, cacheDir, MTIME, PAIRS, sha256File } from './corpus.mjs';
import { benchEndToEnd, e2eMarkdown } from './e2e.mjs';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(REPO, 'dist', 'cli', 'main.js');
const MB = 1024 * 1024;
/** brotli q11 of a full tar above this size is skipped unless cached (it takes minutes per 10 MB here). */
const BROTLI_MAX_BYTES = 30e6;

// ---------------------------------------------------------------------------------------------- arguments
const argv = process.argv.slice(2);

/** The liblzma the notsotuf codec compresses with (the optional dependency lzma-native), or why there is none. */
async function lzmaVersion() {
  try {
    const mod = await import('lzma-native');
    return `${(mod.default ?? mod).versionString()} (lzma-native)`;
  } catch {
    return 'not installed: the notsotuf codec falls back to brotli and bzip2';
  }
}
function listFlag(name) {
  const out = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === name) out.push(...(argv[++i] ?? '').split(',').filter(Boolean));
    else if (argv[i].startsWith(`${name}=`))
      out.push(
        ...argv[i]
          .slice(name.length + 1)
          .split(',')
          .filter(Boolean),
      );
  }
  return out;
}
const onlyPairs = listFlag('--only');
const skipTools = new Set(listFlag('--skip-tool'));
const install = !argv.includes('--no-install');
const freshFull = argv.includes('--fresh-full');
const brotliAll = argv.includes('--brotli-all');
const timeoutMs = Number(listFlag('--timeout-min')[0] ?? 60) * 60_000;
const pairs = onlyPairs.length ? onlyPairs : Object.keys(PAIRS);
const e2e = !argv.includes('--no-e2e');
const e2eRepeat = Number(listFlag('--e2e-repeat')[0] ?? 3);
const partial = onlyPairs.length > 0 || skipTools.size > 0;

function log(msg) {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

// ---------------------------------------------------------------------------------------------- tools
const CLI_CODEC = (codec) => ({
  name: codec,
  label: `notsotuf patch --codec ${codec}`,
  needs: [],
  diff: (o, n, p) => [process.execPath, [CLI, '--json', 'patch', 'create', o, n, p, '--codec', codec]],
  apply: (o, p, out) => [process.execPath, [CLI, '--json', 'patch', 'apply', o, p, out]],
});

/** Delta tools; `bsdiff` is the baseline every ratio is against. */
const DELTA_TOOLS = [
  {
    name: 'bsdiff',
    label: 'bsdiff / bspatch 4.3 (Debian)',
    needs: ['bsdiff', 'bspatch'],
    diff: (o, n, p) => ['bsdiff', [o, n, p]],
    apply: (o, p, out) => ['bspatch', [o, out, p]],
  },
  {
    name: 'xdelta3',
    label: 'xdelta3 -9',
    needs: ['xdelta3'],
    diff: (o, n, p) => ['xdelta3', ['-9', '-e', '-f', '-s', o, n, p]],
    apply: (o, p, out) => ['xdelta3', ['-d', '-f', '-s', o, p, out]],
  },
  {
    name: 'zstd',
    label: 'zstd --patch-from --long=31 -19',
    needs: ['zstd'],
    diff: (o, n, p) => ['zstd', ['-q', '-f', `--patch-from=${o}`, '--long=31', '-19', n, '-o', p]],
    apply: (o, p, out) => [
      'zstd',
      ['-q', '-f', '-d', `--patch-from=${o}`, '--long=31', '--memory=2048MB', p, '-o', out],
    ],
  },
  CLI_CODEC('bsdiff4'),
  CLI_CODEC('notsotuf'),
];

const BROTLI_SCRIPT = `
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { constants as c, createBrotliCompress } from 'node:zlib';
const [input, output] = process.argv.slice(1);
await pipeline(createReadStream(input), createBrotliCompress({ params: {
  [c.BROTLI_PARAM_QUALITY]: 11, [c.BROTLI_PARAM_LGWIN]: 24, [c.BROTLI_PARAM_SIZE_HINT]: statSync(input).size,
} }), createWriteStream(output));
`;

/** Compressors of the full new tar (what a fresh install downloads), for reference. */
const FULL_TOOLS = [
  {
    name: 'gzip',
    label: 'full new tar, gzip -9',
    needs: ['gzip'],
    version: () => debVersion('gzip'),
    run: (n, out) => ['gzip', ['-9', '-c', n], out],
  },
  {
    name: 'zstd-full',
    label: 'full new tar, zstd -19 --long=27',
    needs: ['zstd'],
    version: () => debVersion('zstd'),
    run: (n, out) => ['zstd', ['-q', '-f', '-19', '--long=27', n, '-o', out]],
  },
  {
    name: 'brotli',
    label: 'full new tar, brotli q11 lgwin24 (node:zlib)',
    needs: [],
    version: () => process.versions.brotli,
    run: (n, out) => [process.execPath, ['--input-type=module', '-e', BROTLI_SCRIPT, n, out]],
  },
];

const DEBIAN_PACKAGE = {
  bsdiff: 'bsdiff',
  bspatch: 'bsdiff',
  xdelta3: 'xdelta3',
  zstd: 'zstd',
  gzip: 'gzip',
  time: 'time',
};

function which(cmd) {
  try {
    return execFileSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

/** Installs missing Debian tools when root (unless --no-install); returns the set of commands still missing. */
function ensureTools() {
  const wanted = new Set(['time']);
  for (const t of [...DELTA_TOOLS, ...FULL_TOOLS])
    if (!skipTools.has(t.name)) for (const c of t.needs) wanted.add(c);
  const missing = () => [...wanted].filter((c) => (c === 'time' ? !existsSync('/usr/bin/time') : !which(c)));
  let absent = missing();
  if (absent.length && install && process.getuid?.() === 0) {
    const pkgs = [...new Set(absent.map((c) => DEBIAN_PACKAGE[c]))];
    log(`installing Debian packages: ${pkgs.join(' ')}`);
    const apt = (args) =>
      execFileSync('apt-get', args, {
        stdio: ['ignore', 'ignore', 'inherit'],
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      });
    try {
      apt(['install', '-y', ...pkgs]);
    } catch {
      try {
        apt(['update']);
        apt(['install', '-y', ...pkgs]);
      } catch (err) {
        log(`apt-get failed: ${err.message}`);
      }
    }
    absent = missing();
  }
  if (absent.length) log(`missing tools (reported as such): ${absent.join(', ')}`);
  return new Set(absent);
}

function debVersion(pkg) {
  try {
    // default output: "<package>\t<version>"
    return execFileSync('dpkg-query', ['-W', pkg], { encoding: 'utf8' }).trim().split('\t')[1] || null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------- measuring
/**
 * Runs one command under GNU time. Returns {ok, code, seconds, rssKB, stdout, stderr}. Seconds are wall-clock
 * (measured here with hrtime, finer than time's %e); RSS is the peak resident set of the command (%M, KiB).
 */
async function measure(cmd, args, { stdoutFile, hasTime } = {}) {
  const timeFile = join(cacheDir(), 'work', `.time-${process.pid}`);
  const [file, fileArgs] = hasTime
    ? ['/usr/bin/time', ['-f', '%e %M', '-o', timeFile, cmd, ...args]]
    : [cmd, args];
  const outFd = stdoutFile ? openSync(stdoutFile, 'w') : null;
  const started = process.hrtime.bigint();
  const child = spawn(file, fileArgs, { stdio: ['ignore', outFd ?? 'pipe', 'pipe'], detached: true });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => {
    if (stdout.length < 1 << 20) stdout += d;
  });
  child.stderr.on('data', (d) => {
    if (stderr.length < 1 << 16) stderr += d;
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {}
  }, timeoutMs);
  const code = await new Promise((ok) => {
    child.on('close', (c, signal) => ok(c ?? signal));
    child.on('error', (err) => {
      stderr += String(err);
      ok(-1);
    });
  });
  clearTimeout(timer);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (outFd !== null) closeSync(outFd);
  let rssKB = null;
  if (hasTime && existsSync(timeFile)) {
    const lines = (await readFile(timeFile, 'utf8')).trim().split('\n');
    const m = /^([\d.]+) (\d+)$/.exec(lines.at(-1) ?? '');
    if (m) rssKB = Number(m[2]);
    await rm(timeFile, { force: true });
  }
  if (timedOut) stderr += `\n(killed after ${timeoutMs / 60_000} min)`;
  return { ok: code === 0 && !timedOut, code, seconds, rssKB, stdout, stderr: stderr.trim() };
}

/** Runs shorter than this are repeated (3 in all) and the median reported: one-off noise decides small pairs. */
const REPEAT_BELOW_SECONDS = 10;
const REPEATS = 3;

/**
 * `measure`, repeated when the first run was short and succeeded: the run with the median time is returned, with
 * the median peak RSS. `prepare` runs before each repeat (to remove the previous run's output).
 */
async function measureMedian(cmd, args, options, prepare) {
  const first = await measure(cmd, args, options);
  if (!first.ok || first.seconds >= REPEAT_BELOW_SECONDS) return { ...first, runs: 1 };
  const runs = [first];
  for (let i = 1; i < REPEATS; i++) {
    await prepare();
    const run = await measure(cmd, args, options);
    if (!run.ok) return { ...run, runs: runs.length + 1 };
    runs.push(run);
  }
  const middle = (values) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const seconds = middle(runs.map((r) => r.seconds));
  const rss = runs.every((r) => r.rssKB !== null) ? middle(runs.map((r) => r.rssKB)) : null;
  return { ...runs.at(-1), seconds, rssKB: rss, runs: runs.length };
}

function cliError(run) {
  try {
    const body = JSON.parse(run.stdout);
    if (body && body.ok === false) return body.error;
  } catch {}
  return null;
}

function failure(stage, run) {
  const err = cliError(run);
  const text = err
    ? `${err.code}: ${err.message}`
    : run.stderr.split('\n').slice(-3).join(' ') || `exit ${run.code}`;
  return `${stage} failed: ${text}`.slice(0, 400);
}

async function benchDelta(tool, pair, files, workDir, hasTime) {
  const patch = join(workDir, `${tool.name}.patch`);
  const out = join(workDir, `${tool.name}.out.tar`);
  await rm(patch, { force: true });
  await rm(out, { force: true });
  const row = { tool: tool.name, label: tool.label, status: 'ok' };
  const [dc, da] = tool.diff(files.old.tar, files.new.tar, patch);
  log(`${pair} ${tool.name}: diff`);
  const d = await measureMedian(dc, da, { hasTime }, () => rm(patch, { force: true }));
  Object.assign(row, { diffSeconds: d.seconds, diffRssKB: d.rssKB, diffRuns: d.runs });
  if (!d.ok || !existsSync(patch)) {
    const err = cliError(d);
    if (err?.code === 'PATCH_CODEC_UNKNOWN') {
      row.status = 'not available';
      row.note = err.message;
    } else {
      row.status = 'failed';
      row.note = failure('diff', d);
    }
    log(`${pair} ${tool.name}: ${row.status} (${row.note})`);
    return row;
  }
  row.patchBytes = statSync(patch).size;
  log(`${pair} ${tool.name}: ${row.patchBytes} bytes, ${d.seconds.toFixed(1)} s, ${kbToMB(d.rssKB)}; apply`);
  const [ac, aa] = tool.apply(files.old.tar, patch, out);
  const a = await measureMedian(ac, aa, { hasTime }, () => rm(out, { force: true }));
  Object.assign(row, { applySeconds: a.seconds, applyRssKB: a.rssKB, applyRuns: a.runs });
  if (!a.ok || !existsSync(out)) {
    row.status = 'failed';
    row.note = failure('apply', a);
    row.identical = false;
  } else {
    row.identical = (await sha256File(out)) === files.new.sha256;
    if (!row.identical) {
      row.status = 'failed';
      row.note = 'apply result differs from new.tar';
    }
  }
  await rm(out, { force: true });
  log(
    `${pair} ${tool.name}: apply ${a.seconds.toFixed(1)} s, ${kbToMB(a.rssKB)}, identical=${row.identical}`,
  );
  if (tool.name === 'bsdiff4' && row.identical && which('bspatch')) {
    // Interop at scale: our bsdiff4 patch must apply with Debian's bspatch too.
    const x = await measure('bspatch', [files.old.tar, out, patch], { hasTime: false });
    row.bspatchIdentical = x.ok && (await sha256File(out)) === files.new.sha256;
    if (!row.bspatchIdentical) {
      row.status = 'failed';
      row.note = x.ok ? 'bspatch applies the patch to a different result' : failure('bspatch', x);
    }
    await rm(out, { force: true });
    log(`${pair} ${tool.name}: applies with Debian bspatch: ${row.bspatchIdentical}`);
  }
  return row;
}

async function benchFull(tool, pair, files, workDir, hasTime) {
  const cachePath = join(cacheDir(), 'full-compression.json');
  const cache = existsSync(cachePath) ? JSON.parse(await readFile(cachePath, 'utf8')) : {};
  const key = `${tool.name}|${tool.version()}|${files.new.sha256}`;
  if (!freshFull && cache[key]) {
    log(`${pair} ${tool.name}: reusing the size measured ${cache[key].date}`);
    return { tool: tool.name, label: tool.label, status: 'ok', ...cache[key], cached: true };
  }
  if (tool.name === 'brotli' && !brotliAll && files.new.size > BROTLI_MAX_BYTES) {
    log(`${pair} ${tool.name}: skipped (tar over ${BROTLI_MAX_BYTES / 1e6} MB)`);
    return {
      tool: tool.name,
      label: tool.label,
      status: 'skipped',
      note: `tar over ${BROTLI_MAX_BYTES / 1e6} MB, not computed (--brotli-all to compute)`,
    };
  }
  const out = join(workDir, `full.${tool.name}`);
  await rm(out, { force: true });
  const [cmd, args, stdoutFile] = tool.run(files.new.tar, out);
  log(`${pair} ${tool.name}: compress new.tar`);
  const r = await measure(cmd, args, { stdoutFile, hasTime });
  const row = { tool: tool.name, label: tool.label, seconds: r.seconds, rssKB: r.rssKB };
  if (!r.ok || !existsSync(out)) Object.assign(row, { status: 'failed', note: failure('compress', r) });
  else {
    Object.assign(row, { status: 'ok', bytes: statSync(out).size });
    cache[key] = { bytes: row.bytes, seconds: row.seconds, rssKB: row.rssKB, date: new Date().toISOString() };
    await writeFile(cachePath, `${JSON.stringify(cache, null, 2)}\n`);
  }
  await rm(out, { force: true });
  return row;
}

// ---------------------------------------------------------------------------------------------- targets
/** The targets of issue 20 (item 2) for the notsotuf codec, on every pair; `max` bounds the measured value. */
const TARGETS = [
  {
    name: 'patch ≤ 0.75 × bsdiff',
    max: 0.75,
    value: (o, b) => ratio(o.patchBytes, b?.patchBytes),
    fmt: (v) => `${fmtRatio(v)} of bsdiff`,
  },
  {
    name: "create time ≤ 0.3 × bsdiff's",
    max: 0.3,
    value: (o, b) => ratio(o.diffSeconds, b?.diffSeconds),
    fmt: (v) => `${fmtRatio(v)} of bsdiff`,
  },
  {
    name: "apply time ≤ 1.5 × bspatch's",
    max: 1.5,
    value: (o, b) => ratio(o.applySeconds, b?.applySeconds),
    fmt: (v) => `${fmtRatio(v)} of bspatch`,
  },
  {
    name: 'apply peak RSS ≤ 64 MiB (node included)',
    max: 64 * 1024,
    value: (o) => o.applyRssKB,
    fmt: (v) => kbToMB(v),
    own: true,
  },
];

function ratio(a, b) {
  return a != null && b ? a / b : null;
}

/**
 * The targets of one pair: the issue's four and "apply byte-identical", each pass, FAIL or n/a (no baseline
 * measured) with the measured value; plus the bsdiff4 interop check (reported, not counted as a target).
 */
function targetsFor(rows) {
  const ours = rows.find((r) => r.tool === 'notsotuf');
  const bs = rows.find((r) => r.tool === 'bsdiff' && r.status === 'ok');
  const b4 = rows.find((r) => r.tool === 'bsdiff4');
  const targets = [];
  const add = (name, ok, detail, counted = true) =>
    targets.push({ name, result: ok === null ? 'n/a' : ok ? 'pass' : 'FAIL', detail, counted });
  const ran = ours?.status === 'ok';
  const why = ours
    ? `notsotuf codec ${ours.status}${ours.note ? `: ${ours.note}` : ''}`
    : 'notsotuf codec skipped';
  for (const t of TARGETS) {
    if (!ran) add(t.name, false, why);
    else if (!t.own && !bs) add(t.name, null, 'no bsdiff result');
    else {
      const v = t.value(ours, bs);
      add(t.name, v == null ? null : v <= t.max, v == null ? 'not measured' : t.fmt(v));
    }
  }
  add('apply byte-identical', ran && ours.identical === true, ran ? '' : why);
  if (b4 && b4.bspatchIdentical !== undefined) {
    add('bsdiff4 patch applies with Debian bspatch (interop check)', b4.bspatchIdentical, '', false);
  } else if (b4 && b4.status !== 'ok') {
    add('bsdiff4 codec ran (interop check)', false, b4.note ?? b4.status, false);
  }
  return targets;
}

/** "N of M targets met" over `pairs` (counted targets only). */
function targetTally(pairs) {
  const counted = pairs.flatMap((p) => p.targets.filter((t) => t.counted !== false));
  const met = counted.filter((t) => t.result === 'pass').length;
  const na = counted.filter((t) => t.result === 'n/a').length;
  return `${met} of ${counted.length} targets met${na ? ` (${na} n/a)` : ''}`;
}

// ---------------------------------------------------------------------------------------------- formatting
function fmtBytes(n) {
  if (n == null) return '—';
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} KB`;
  return `${n} B`;
}
function kbToMB(kb) {
  return kb == null ? '—' : `${((kb * 1024) / MB).toFixed(kb < 10 * 1024 ? 1 : 0)} MiB`;
}
function fmtSec(s) {
  return s == null ? '—' : s < 10 ? `${s.toFixed(2)} s` : `${s.toFixed(1)} s`;
}
function fmtRatio(r) {
  return r == null || !Number.isFinite(r) ? '—' : `${r.toFixed(2)}×`;
}

function pairMarkdown(p) {
  const bs = p.delta.find((r) => r.tool === 'bsdiff' && r.status === 'ok');
  const rel = (v, b) => (bs && v != null && b ? fmtRatio(v / b) : '—');
  const lines = [
    `### \`${p.pair}\` (${p.kind ?? '?'}): ${fmtBytes(p.old.size)} → ${fmtBytes(p.new.size)} tar`,
    '',
    ...(p.packages ? [`${p.packages.old.join(', ')} → ${p.packages.new.join(', ')}`, ''] : []),
    '| tool | patch | vs bsdiff | diff time | vs bsdiff | diff peak RSS | vs bsdiff | apply time | apply peak RSS | result |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|---|',
  ];
  for (const r of p.delta) {
    if (r.status === 'ok') {
      lines.push(
        `| ${r.label} | ${fmtBytes(r.patchBytes)} | ${rel(r.patchBytes, bs?.patchBytes)} | ${fmtSec(r.diffSeconds)} | ${rel(r.diffSeconds, bs?.diffSeconds)} | ${kbToMB(r.diffRssKB)} | ${rel(r.diffRssKB, bs?.diffRssKB)} | ${fmtSec(r.applySeconds)} | ${kbToMB(r.applyRssKB)} | identical${r.bspatchIdentical ? '; also with Debian bspatch' : ''} |`,
      );
    } else {
      const note = (r.note ?? '').replace(/\|/g, '\\|').replace(/\s+/g, ' ').slice(0, 160);
      lines.push(`| ${r.label} | ${r.status} | | | | | | | | ${note} |`);
    }
  }
  for (const r of p.full) {
    const size = r.status === 'ok' ? fmtBytes(r.bytes) : r.status;
    lines.push(
      `| ${r.label} | ${size} | ${rel(r.bytes, bs?.patchBytes)} | ${fmtSec(r.seconds)} | | ${kbToMB(r.rssKB)} | | | | ${r.status !== 'ok' ? (r.note ?? '').slice(0, 160) : r.cached ? `measured ${r.date.slice(0, 10)} (cached)` : ''} |`,
    );
  }
  lines.push(
    `| full new tar, createArchive .tar.gz (shipped today) | ${fmtBytes(p.new.gzSize)} | ${rel(p.new.gzSize, bs?.patchBytes)} | | | | | | | |`,
  );
  lines.push('', `Targets for the notsotuf codec on \`${p.pair}\` (${targetTally([p])}):`, '');
  for (const t of p.targets) lines.push(`- **${t.result}** ${t.name}${t.detail ? ` (${t.detail})` : ''}`);
  lines.push('');
  return lines.join('\n');
}

/** One row per pair: sizes against bsdiff, the notsotuf codec's times against bsdiff/bspatch, the targets met. */
function summaryMarkdown(results) {
  const cell = (r, f) => (r == null ? '—' : r.status !== 'ok' ? r.status : f(r));
  const lines = [
    '| pair | kind | new tar | bsdiff patch | notsotuf patch (× bsdiff) | bsdiff4 × | xdelta3 -9 × | zstd -19 × | notsotuf create (× bsdiff) | notsotuf apply (× bspatch) | notsotuf apply RSS | full new tar gzip -9 / zstd -19 / brotli q11 | targets met |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const p of results.pairs) {
    const get = (tool) => p.delta.find((r) => r.tool === tool);
    const bs = get('bsdiff');
    const base = bs?.status === 'ok' ? bs : null;
    const ours = get('notsotuf');
    const ofBsdiff = (x) => (base ? ` (${fmtRatio(ratio(x, base.patchBytes))})` : '');
    const rel = (tool) =>
      cell(get(tool), (r) => (base ? fmtRatio(ratio(r.patchBytes, base.patchBytes)) : '—'));
    const full = (tool) =>
      cell(
        p.full.find((r) => r.tool === tool),
        (r) => fmtBytes(r.bytes),
      );
    const counted = p.targets.filter((t) => t.counted !== false);
    lines.push(
      `| ${p.pair} | ${p.kind ?? '?'} | ${fmtBytes(p.new.size)} | ${cell(bs, (r) => fmtBytes(r.patchBytes))} | ` +
        `${cell(ours, (r) => `${fmtBytes(r.patchBytes)}${ofBsdiff(r.patchBytes)}`)} | ${rel('bsdiff4')} | ${rel('xdelta3')} | ${rel('zstd')} | ` +
        `${cell(ours, (r) => `${fmtSec(r.diffSeconds)}${base ? ` (${fmtRatio(ratio(r.diffSeconds, base.diffSeconds))})` : ''}`)} | ` +
        `${cell(ours, (r) => `${fmtSec(r.applySeconds)}${base ? ` (${fmtRatio(ratio(r.applySeconds, base.applySeconds))})` : ''}`)} | ` +
        `${cell(ours, (r) => kbToMB(r.applyRssKB))} | ${['gzip', 'zstd-full', 'brotli'].map(full).join(' / ')} | ` +
        `${counted.filter((t) => t.result === 'pass').length} / ${counted.length} |`,
    );
  }
  return lines.join('\n');
}

function markdown(results) {
  const m = results.machine;
  const lines = [
    `# Patch benchmark${results.partial ? ' (partial run)' : ''}`,
    '',
    `Run ${results.date} on ${m.cpuModel}, ${m.nproc} cores, ${(m.memoryBytes / 2 ** 30).toFixed(1)} GiB RAM, ${m.os}; node ${m.node}; ` +
      `notsotuf ${results.git}. Total run time ${(results.totalSeconds / 60).toFixed(1)} min. ` +
      `Load average at start / end: ${m.loadStart.join(' ')} / ${m.loadEnd.join(' ')}.`,
    '',
    `Times are wall-clock on a shared machine (other jobs may run at the same time): a diff or apply that took under ${REPEAT_BELOW_SECONDS} s ` +
      `is run ${REPEATS} times and the median time and peak RSS reported, a longer one once, so expect noise of 10 % or more on ` +
      'single runs; sizes are exact. Peak RSS from GNU time (%M); for the notsotuf CLI that is ' +
      "node's own RSS. Tars are the uncompressed archives of `createArchive` (mtime " +
      `${MTIME}), built by \`bench/corpus.mjs\`. Tools: ${Object.entries(results.toolVersions)
        .map(([k, v]) => `${k} ${v ?? 'missing'}`)
        .join(', ')}.`,
    '',
    '## Summary',
    '',
    summaryMarkdown(results),
    '',
    `Targets of issue 20 for the notsotuf codec on every pair (${TARGETS.map((t) => t.name).join('; ')}; apply ` +
      `byte-identical): **${targetTally(results.pairs)}**. "×" columns are ratios to bsdiff's patch size (or ` +
      "bsdiff's create time, bspatch's apply time) on the same pair; `skipped` brotli cells: tar over " +
      `${BROTLI_MAX_BYTES / 1e6} MB and no cached size (--brotli-all computes them).`,
    '',
    '## Per pair',
    '',
    ...results.pairs.map(pairMarkdown),
    ...(results.e2e ? ['## End-to-end client update', '', e2eMarkdown(results.e2e)] : []),
  ];
  return `${lines.join('\n').trimEnd()}\n`;
}

// ---------------------------------------------------------------------------------------------- main
async function main() {
  const t0 = process.hrtime.bigint();
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing; run \`npm run build\` (or \`npm run bench\`)`);
  const missing = ensureTools();
  const hasTime = !missing.has('time');
  const loadStart = os.loadavg().map((x) => Number(x.toFixed(2)));
  log(`corpus in ${cacheDir()}`);
  const corpus = await buildCorpus({ pairs });
  const cpuinfo = await readFile('/proc/cpuinfo', 'utf8').catch(() => '');
  let git = 'unknown';
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: REPO,
      encoding: 'utf8',
    }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], {
      cwd: REPO,
      encoding: 'utf8',
    }).trim();
    git = `${head}${dirty ? ' + uncommitted changes in src/' : ''}`;
  } catch {}
  const results = {
    date: new Date().toISOString(),
    partial,
    args: argv,
    git,
    machine: {
      nproc: Number(execFileSync('nproc', { encoding: 'utf8' }).trim()),
      memoryBytes: os.totalmem(),
      cpuModel: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown',
      os: `${os.type()} ${os.release()} ${os.arch()}`,
      node: process.version,
      loadStart,
      loadEnd: null,
    },
    toolVersions: {
      bsdiff: debVersion('bsdiff'),
      xdelta3: debVersion('xdelta3'),
      zstd: debVersion('zstd'),
      gzip: debVersion('gzip'),
      time: debVersion('time'),
      brotli: `node:zlib ${process.versions.brotli}`,
      liblzma: await lzmaVersion(),
    },
    pairs: [],
  };
  for (const pair of pairs) {
    const files = corpus[pair];
    for (const side of ['old', 'new']) {
      const actual = await sha256File(files[side].tar); // also warms the page cache
      if (actual !== files[side].sha256)
        throw new Error(`${files[side].tar}: sha256 differs from corpus.json; delete it`);
    }
    const workDir = join(cacheDir(), 'work', pair);
    await mkdir(workDir, { recursive: true });
    const strip = ({ tar, tgz, ...rest }) => rest;
    const specs = (side) => PAIRS[pair][side].map(([, spec]) => spec);
    const entry = {
      pair,
      kind: PAIRS[pair].kind,
      packages: { old: specs('old'), new: specs('new') },
      old: strip(files.old),
      new: strip(files.new),
      delta: [],
      full: [],
      targets: [],
    };
    for (const tool of DELTA_TOOLS) {
      if (skipTools.has(tool.name)) continue;
      const lacking = tool.needs.filter((c) => missing.has(c));
      if (lacking.length) {
        entry.delta.push({
          tool: tool.name,
          label: tool.label,
          status: 'missing',
          note: `not installed: ${lacking.join(', ')}`,
        });
        continue;
      }
      entry.delta.push(await benchDelta(tool, pair, files, workDir, hasTime));
    }
    for (const tool of FULL_TOOLS) {
      if (skipTools.has(tool.name)) continue;
      const lacking = tool.needs.filter((c) => missing.has(c));
      if (lacking.length) {
        entry.full.push({
          tool: tool.name,
          label: tool.label,
          status: 'missing',
          note: `not installed: ${lacking.join(', ')}`,
        });
        continue;
      }
      entry.full.push(await benchFull(tool, pair, files, workDir, hasTime));
    }
    entry.targets = targetsFor(entry.delta);
    results.pairs.push(entry);
  }
  if (e2e) {
    // The largest pair of the run: the end-to-end update of issue 20 (check → download → patch → install).
    const largest = pairs.reduce((a, b) => (corpus[b].new.size > corpus[a].new.size ? b : a));
    const codecs = ['bsdiff4', 'notsotuf'].filter((c) => !skipTools.has(c));
    log(`end-to-end client update on ${largest} (${codecs.join(', ')}), ${e2eRepeat} run(s) per mode`);
    results.e2e = await benchEndToEnd({
      pair: largest,
      files: corpus[largest],
      codecs,
      repeat: e2eRepeat,
      fresh: argv.includes('--fresh-e2e'),
    });
  }
  results.machine.loadEnd = os.loadavg().map((x) => Number(x.toFixed(2)));
  results.totalSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const outDir = join(REPO, 'bench', 'results');
  await mkdir(outDir, { recursive: true });
  const base = partial ? 'partial' : 'latest';
  const md = markdown(results);
  await writeFile(join(outDir, `${base}.json`), `${JSON.stringify(results, null, 2)}\n`);
  await writeFile(join(outDir, `${base}.md`), md);
  process.stdout.write(`\n${md}\nWritten: bench/results/${base}.json, bench/results/${base}.md\n`);
  const failed = results.pairs.flatMap((p) =>
    p.delta.filter((r) => r.status === 'failed').map((r) => `${p.pair}/${r.tool}`),
  );
  if (failed.length) log(`tools that failed: ${failed.join(', ')}`);
  log(targetTally(results.pairs));
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${err.stack ?? err}\n`);
  process.exit(1);
});
