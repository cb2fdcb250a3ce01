#!/usr/bin/env node
/**
 * Micro-benchmark of the client's bzip2 decoder on the three streams (control, diff, extra) of a BSDIFF40 patch,
 * against `bzip2 -d` (libbz2) on the same bytes. Reports wall and CPU (user + sys) seconds per stream, the median of
 * --repeat runs, for the synchronous decoder and the streaming one (as bsdiff4 apply uses it).
 *
 * node bench/bzip2-decode.mjs [--patch file.patch] [--repeat 3] [--dist dir]
 * Default patch: the bsdiff4 patch of the e2e bench's cached `big` repository.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cacheDir } from './corpus.mjs';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const flag = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const distDir = resolve(flag('--dist', join(REPO, 'dist')));
const { bzip2Decompress, bzip2DecompressStream } = await import(
  pathToFileURL(join(distDir, 'patch', 'bzip2', 'index.js')).href
);
const repeat = Number(flag('--repeat', '3'));
let patchPath = flag('--patch', null);
if (!patchPath) {
  const dir = join(cacheDir(), 'e2e', 'big-bsdiff4', 'repository', 'targets');
  patchPath = join(
    dir,
    readdirSync(dir).find((f) => f.endsWith('.patch')),
  );
}
const patch = readFileSync(patchPath);
const int64 = (o) => Number(patch.readBigInt64LE(o));
const ctrlLen = int64(8);
const diffLen = int64(16);
const streams = {
  control: patch.subarray(32, 32 + ctrlLen),
  diff: patch.subarray(32 + ctrlLen, 32 + ctrlLen + diffLen),
  extra: patch.subarray(32 + ctrlLen + diffLen),
};

function cpuNow() {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1e6;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

async function time(fn) {
  const w = performance.now();
  const c = cpuNow();
  const out = await fn();
  return { wall: (performance.now() - w) / 1000, cpu: cpuNow() - c, out };
}

function native(data) {
  const file = join(tmpdir(), `bzbench-${process.pid}.bz2`);
  writeFileSync(file, data);
  // bash's `times` gives the child's user+sys; wall from here.
  const w = performance.now();
  const r = spawnSync('bash', ['-c', `bzip2 -dc "$1" > /dev/null; times`, 'x', file], { encoding: 'utf8' });
  const wall = (performance.now() - w) / 1000;
  const lines = r.stdout.trim().split('\n');
  const child = lines[lines.length - 1].split(/\s+/).map((t) => {
    const m = /(\d+)m([\d.]+)s/.exec(t);
    return m ? Number(m[1]) * 60 + Number(m[2]) : 0;
  });
  return { wall, cpu: child[0] + child[1] };
}

const rows = [];
for (const [name, data] of Object.entries(streams)) {
  const res = { sync: [], stream: [], native: [] };
  let outLen = 0;
  for (let i = 0; i < repeat; i++) {
    const s = await time(() => bzip2Decompress(data));
    outLen = s.out.length;
    res.sync.push(s);
    res.stream.push(
      await time(async () => {
        let n = 0;
        for await (const c of bzip2DecompressStream([data], { reuseBuffers: true, chunkSize: 256 * 1024 }))
          n += c.length;
        return n;
      }),
    );
    res.native.push(native(data));
  }
  const m = (k, f) => median(res[k].map((r) => r[f]));
  rows.push(
    `| ${name} | ${(data.length / 1e6).toFixed(2)} MB | ${(outLen / 1e6).toFixed(1)} MB | ` +
      `${m('sync', 'wall').toFixed(2)} / ${m('sync', 'cpu').toFixed(2)} | ` +
      `${m('stream', 'wall').toFixed(2)} / ${m('stream', 'cpu').toFixed(2)} | ` +
      `${m('native', 'wall').toFixed(2)} / ${m('native', 'cpu').toFixed(2)} | ` +
      `${(m('stream', 'cpu') / m('native', 'cpu')).toFixed(2)}× |`,
  );
}
process.stdout.write(
  `bzip2 decode of ${patchPath.split('/').pop()} (median of ${repeat}; seconds wall / CPU)\n\n` +
    '| stream | in | out | ours, sync | ours, streaming | bzip2 -d | streaming CPU / bzip2 CPU |\n' +
    '|---|--:|--:|--:|--:|--:|--:|\n' +
    `${rows.join('\n')}\n`,
);
