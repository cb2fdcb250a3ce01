/** Types of crash-harness.mjs (plain JavaScript, so scripts/stress.mjs runs it without tsx). */

export declare const BASE: string;
export declare const OLD: string;
export declare const NEW: string;

/** Where a run's install is killed; `none` installs completely. */
export type KillPoint =
  | { readonly mode: 'op'; readonly op: number }
  | { readonly mode: 'step'; readonly step: number }
  | { readonly mode: 'time'; readonly delayMs: number }
  | { readonly mode: 'none' };

export interface Calibration {
  /** File-system calls of an uninterrupted install of NEW. */
  readonly ops: number;
  /** Calls made before each step was announced. */
  readonly stepOps: Readonly<Record<number, number>>;
  /** The first call of the tail that half the random `op` kills aim at. */
  readonly tailFrom: number;
  /** T: the median duration of an uninterrupted install, from the child's `ready` to its `done`. */
  readonly durationMs: number;
  /** Entries (files, directories, links) of the NEW release. */
  readonly files: number;
}

export interface ChildInfo {
  readonly done: boolean;
  readonly killed: boolean;
  readonly ops: number;
  readonly stepOps: Readonly<Record<number, number>>;
  readonly killLine?: string;
  readonly durationMs: number;
  readonly problems: readonly string[];
}

export interface RunResult {
  readonly id: string;
  readonly point: string;
  readonly mode: KillPoint['mode'];
  /** The kill happened while the install was still running. */
  readonly hit: boolean;
  /** How far the install got (absent when the harness itself failed). */
  readonly phase?: Phase;
  /** The version the entry point started; null when the root is broken (see `problems`). */
  readonly outcome: 'old' | 'new' | null;
  readonly problems: readonly string[];
  /** For `op` kills: the call the child died before. */
  readonly killedAt?: string;
  /** With `keepFailed`, where a failed run's root was left. */
  readonly root?: string;
  readonly child: ChildInfo;
}

/** How far an install got when it was killed (see `phaseOf` in crash-harness.mjs). */
export type Phase = 'preparing' | 'copying' | 'moved' | 'switched' | 'finished';

export interface ModeCounts {
  readonly runs: number;
  readonly hits: number;
  readonly old: number;
  readonly new: number;
  readonly phases: Readonly<Partial<Record<Phase, number>>>;
}

export interface Summary {
  readonly runs: number;
  readonly hits: number;
  readonly old: number;
  readonly new: number;
  readonly byMode: Readonly<
    Record<
      string,
      { readonly runs: number; readonly hits: number; readonly old: number; readonly new: number }
    >
  >;
  readonly distinctOpsHit: number;
  readonly failures: readonly RunResult[];
}

export interface Verdict {
  readonly outcome: 'old' | 'new' | null;
  readonly version: string | undefined;
  readonly problems: readonly string[];
}

export interface HarnessOptions {
  /** Where the harness makes its temp dir (default os.tmpdir()). */
  readonly tmp?: string;
  /** Small files of the NEW release (default 100). */
  readonly small?: number;
  /** Size of its large file (default 1 MiB). */
  readonly bigBytes?: number;
  /** Keep the root of a failed run for inspection. */
  readonly keepFailed?: boolean;
  /** Edits the harness's copy of dist/ (the directory holding install/, core/, util/) before anything runs. */
  readonly mutate?: (dist: string) => Promise<void>;
}

export interface CrashHarness {
  readonly base: string;
  readonly calibration: Calibration | undefined;
  calibrate(options?: { readonly samples?: number; readonly concurrency?: number }): Promise<Calibration>;
  plan(options: { readonly runs: number; readonly seed: number; readonly sweep?: boolean }): {
    readonly points: KillPoint[];
    readonly sweeping: boolean;
  };
  runAll(
    points: readonly KillPoint[],
    options?: {
      readonly concurrency?: number;
      readonly onResult?: (result: RunResult, finished: number) => void;
    },
  ): Promise<Summary>;
  runOne(point: KillPoint, id: string): Promise<RunResult>;
  /** `<dir>/root`, holding BASE and OLD (current); returns its path. */
  setupRoot(dir: string): Promise<string>;
  /** Starts the entry point on `root` and checks the root (see crash-harness.mjs). */
  verify(root: string): Promise<Verdict>;
  close(): Promise<void>;
}

export declare function assertBuilt(): void;
export declare function createHarness(options?: HarnessOptions): Promise<CrashHarness>;
export declare function describePoint(point: KillPoint): string;
export declare function describeModes(summary: Summary): string;
export declare function describePhases(phases: Summary['phases']): string;
export declare function describeFailure(failure: RunResult, seed: number): string;
export declare function parseSeed(text: string | undefined): number;
export declare function summarize(results: readonly RunResult[]): Summary;
