/**
 * Worker entry of match-ahead.ts: claims changed files the main thread has not reached, matches them with the
 * adaptive matcher, and posts the matches back. Claims go through a shared array, so the worker never waits for
 * the main thread's event loop to hand out work.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { adaptiveMatcher } from './adaptive-matcher.js';
import { matchPacked } from './file-matches.js';
import { FileSlices } from './file-slices.js';
import { CLAIM_FREE, CLAIM_WORKER, type MatchAheadSetup, type WorkerReport } from './match-protocol.js';

const setup = workerData as MatchAheadSetup;
const port = parentPort;
if (!port) throw new Error('match-worker runs only as a worker thread');
const old = new FileSlices(setup.old);
const neu = new FileSlices(setup.neu);
const claims = new Int32Array(setup.claims);

// From the last file back, while the main thread goes forward: they meet in the middle, and the main thread
// waits at most for the file the worker is on.
for (let index = setup.jobs.length - 1; index >= 0; index--) {
  if (Atomics.compareExchange(claims, index, CLAIM_FREE, CLAIM_WORKER) !== CLAIM_FREE) continue;
  const job = setup.jobs[index]!;
  try {
    const found = matchPacked(
      old.read(job.oldStart, job.oldSize),
      neu.read(job.newStart, job.newSize),
      adaptiveMatcher,
    );
    const report: WorkerReport = { index, found };
    port.postMessage(report, [found.matches.buffer, ...found.regionMatches.map((r) => r.buffer)]);
  } catch (err) {
    const report: WorkerReport = { index, error: err instanceof Error ? err.message : String(err) };
    port.postMessage(report);
  }
}
