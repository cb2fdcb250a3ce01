import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { PackedFileMatches } from './file-matches.js';
import {
  CLAIM_FREE,
  CLAIM_MAIN,
  type MatchAheadSetup,
  type MatchJob,
  type WorkerReport,
} from './match-protocol.js';

/** Files smaller than this are matched where they are emitted: a round trip to the worker would not pay. */
export const MIN_MATCH_AHEAD = 1 << 20;

/** Starts match-worker.ts, from the compiled .js or, in development under tsx, from the .ts source. */
function spawnWorker(setup: MatchAheadSetup): Worker {
  const fromSource = import.meta.url.endsWith('.ts');
  const url = new URL(`./match-worker.${fromSource ? 'ts' : 'js'}`, import.meta.url);
  if (!fromSource) return new Worker(url, { workerData: setup });
  // Workers do not inherit tsx's loader (privatenumber/tsx#354): register it in the worker first.
  const tsx = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(bootstrap, { eval: true, workerData: setup });
}

/**
 * Matches changed files on a second core while the main thread emits the patch in order: a worker claims files
 * from the last one back, the main thread from the first one on, and when the main thread gets to a file the
 * worker claimed it takes the worker's matches (waiting if the worker is still on it). Matches are a pure
 * function of the bytes, so the patch is the same as one made on one thread. If the worker fails, the main
 * thread matches its files itself.
 */
export class MatchAhead {
  private readonly reports = new Map<number, PackedFileMatches | undefined>();
  private readonly waiting = new Map<number, (found: PackedFileMatches | undefined) => void>();
  private exited = false;
  /** Settles when the worker has stopped: every file it claimed is then reported. */
  readonly finished: Promise<void>;

  private constructor(
    private readonly worker: Worker,
    private readonly claims: Int32Array,
  ) {
    this.finished = new Promise((resolve) => worker.once('exit', () => resolve()));
    worker.on('message', (report: WorkerReport) =>
      this.settle(report.index, 'found' in report ? report.found : undefined),
    );
    // A worker that fails exits; its unfinished files are then matched on the main thread (see take).
    worker.on('error', () => undefined);
    worker.on('exit', () => {
      this.exited = true;
      for (const resolve of this.waiting.values()) resolve(undefined);
      this.waiting.clear();
    });
  }

  /**
   * Starts a worker for `jobs` (the changed files in emit order), or returns undefined when it would not help:
   * one core, or no file after the first worth sending.
   */
  static start(
    files: Omit<MatchAheadSetup, 'claims' | 'jobs'>,
    jobs: readonly MatchJob[],
  ): MatchAhead | undefined {
    if (availableParallelism() < 2 || jobs.length === 0) return undefined;
    const claims = new Int32Array(new SharedArrayBuffer(4 * jobs.length));
    // The main thread starts on the first file at once; small files stay with it.
    jobs.forEach((job, i) => {
      if (i === 0 || job.newSize < MIN_MATCH_AHEAD) claims[i] = CLAIM_MAIN;
    });
    if (!claims.some((claim) => claim === CLAIM_FREE)) return undefined;
    try {
      return new MatchAhead(
        spawnWorker({ ...files, jobs, claims: claims.buffer as SharedArrayBuffer }),
        claims,
      );
    } catch {
      return undefined; // no worker here: the main thread matches everything
    }
  }

  /**
   * The worker's matches for job `index` (a promise, as the worker may still be on it), or undefined when the
   * main thread matches it: it got there first, the file stays here, or the worker failed.
   */
  take(index: number): Promise<PackedFileMatches | undefined> | undefined {
    const claim = Atomics.compareExchange(this.claims, index, CLAIM_FREE, CLAIM_MAIN);
    if (claim === CLAIM_FREE || claim === CLAIM_MAIN) return undefined;
    if (this.reports.has(index)) {
      const found = this.reports.get(index);
      this.reports.delete(index);
      return Promise.resolve(found);
    }
    if (this.exited) return undefined;
    return new Promise((resolve) => this.waiting.set(index, resolve));
  }

  private settle(index: number, found: PackedFileMatches | undefined): void {
    const resolve = this.waiting.get(index);
    if (resolve) {
      this.waiting.delete(index);
      resolve(found);
    } else this.reports.set(index, found);
  }

  /** Stops the worker (it may still be matching files the patch no longer needs, after an error). */
  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
