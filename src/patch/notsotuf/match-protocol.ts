import type { PackedFileMatches } from './file-matches.js';

/** States of a job in the shared claims array: whoever swaps FREE for its mark does the job. */
export const CLAIM_FREE = 0;
export const CLAIM_MAIN = 1;
export const CLAIM_WORKER = 2;

/** A changed file to match: where its old and new versions lie in the old and new tar. */
export interface MatchJob {
  readonly oldStart: number;
  readonly oldSize: number;
  readonly newStart: number;
  readonly newSize: number;
}

/** An open input file. The descriptor is the process's, so the worker reads through it as it is. */
export interface OpenInput {
  readonly fd: number;
  readonly size: number;
  readonly path: string;
}

/** What the worker is started with (workerData). */
export interface MatchAheadSetup {
  readonly old: OpenInput;
  readonly neu: OpenInput;
  readonly jobs: readonly MatchJob[];
  /** One Int32 claim per job. */
  readonly claims: SharedArrayBuffer;
}

/** What the worker posts for each job it claimed. */
export type WorkerReport =
  | { readonly index: number; readonly found: PackedFileMatches }
  | { readonly index: number; readonly error: string };
