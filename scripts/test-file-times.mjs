// A node:test reporter (used by scripts/run-tests.mjs beside `spec`) that prints, once every file has run, how
// long each test file took and the ten slowest: where to look when the suite gets slow.
//
// A file's time is the runner's own test for the file (Node 20 reports one, from the start of its process to its
// end, so the tsx compile counts); where there is none, the span from the file's first event to its last.
import { relative } from 'node:path';
import { performance } from 'node:perf_hooks';

const SLOWEST = 10;

/** @param {number} ms */
function seconds(ms) {
  return `${(ms / 1000).toFixed(2).padStart(7)} s`;
}

/** @param {AsyncIterable<{ type: string, data: any }>} source */
export default async function* fileTimes(source) {
  /** @type {Map<string, { first: number, last: number, own?: number }>} */
  const files = new Map();
  for await (const event of source) {
    const file = event.data?.file;
    if (typeof file !== 'string') continue;
    const now = performance.now();
    const entry = files.get(file) ?? { first: now, last: now };
    entry.last = now;
    if (event.type === 'test:complete' && event.data.name === file && event.data.nesting === 0) {
      entry.own = event.data.details?.duration_ms;
    }
    files.set(file, entry);
  }
  if (files.size === 0) return;
  const rows = [...files].map(([file, t]) => ({
    file: relative(process.cwd(), file),
    ms: t.own ?? t.last - t.first,
  }));
  rows.sort((a, b) => a.file.localeCompare(b.file));
  yield `\nTime per test file (${rows.length} files):\n`;
  for (const { file, ms } of rows) yield `${seconds(ms)}  ${file}\n`;
  const slowest = [...rows].sort((a, b) => b.ms - a.ms).slice(0, SLOWEST);
  yield `\nThe ${slowest.length} slowest:\n`;
  for (const { file, ms } of slowest) yield `${seconds(ms)}  ${file}\n`;
}
