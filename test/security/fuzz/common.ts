/**
 * What every fuzz property shares: the property type, the outcome checks (a result, or a NotsotufError with a
 * documented code and no hidden programming error), outcome statistics, invariants (bounded memory, no prototype
 * pollution), byte helpers and per-run scratch directories.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { lstat, mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { type ErrorCode, isNotsotufError, type NotsotufError } from '../../../src/core/errors.js';
import { loadLzmaNative, lzmaCompress } from '../../../src/patch/lzma/encoder.js';

// ---------------------------------------------------------------------------------------------------------------
// Properties

/** One fuzzed parser property. */
export interface FuzzProperty {
  /** Unique, `<module>: <what>`; `--only` in scripts/fuzz.mjs matches substrings of it. */
  readonly name: string;
  // biome-ignore lint/suspicious/noExplicitAny: a list of properties over different value tuples
  readonly property: fc.IAsyncProperty<any> | fc.IProperty<any>;
  /** Runs in the quick test (fuzz-parsers.test.ts). */
  readonly testRuns: number;
  /** Share of `--runs` in the long fuzz run: below 1 for properties whose runs are expensive. */
  readonly weight: number;
  /**
   * A bug this property finds that is not fixed yet (outside the scope of the fuzzing work). The quick test runs
   * the property as a `todo` (reported, not counted as a failure); the fuzz script reports it separately.
   */
  readonly knownIssue?: string;
  /** Resolves false when something the property needs is missing (then it is skipped, never passed). */
  readonly available?: () => Promise<boolean>;
}

/** What an area's properties are built from. */
export interface FuzzContext {
  /** Scratch directories, one per run. */
  readonly ws: Workspace;
  /** Multiplies the sizes of generated inputs (at least 1). */
  readonly scale: number;
}

/** One area of the suite: its properties, in the order they run. */
export type FuzzArea = (ctx: FuzzContext) => FuzzProperty[];

// ---------------------------------------------------------------------------------------------------------------
// Outcome checks

/** Generous absolute bound on the process's resident memory; every decoder's own limits keep far below it. */
export const MEMORY_LIMIT_BYTES = 1.5 * 1024 ** 3;

/** Fails when the process's resident memory is above {@link MEMORY_LIMIT_BYTES}. */
export function assertMemoryBounded(): void {
  const { rss } = process.memoryUsage();
  assert.ok(rss < MEMORY_LIMIT_BYTES, `resident memory ${(rss / 2 ** 20).toFixed(0)} MiB is above the bound`);
}

const PROGRAMMING_ERRORS = [TypeError, RangeError, ReferenceError, SyntaxError, EvalError, URIError];

export function describeError(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}\n${err.stack ?? ''}`;
  return `non-Error ${typeof err}: ${String(err)}`;
}

export interface ErrorExpectation {
  /** The codes the parser documents for bad input. */
  readonly codes: readonly ErrorCode[];
  /**
   * Whether a built-in programming error (TypeError, RangeError, ...) may be the `cause`: true only where the
   * parser documents wrapping one (JSON.parse's SyntaxError, @tufjs/models' TypeErrors).
   */
  readonly foreignCause?: boolean;
}

/** The codes of the patch codecs and of the decoders under them. */
export const PATCH_CODEC_CODES: ErrorExpectation = { codes: ['PATCH_INVALID'] };

/**
 * Asserts that `err` is a NotsotufError with a non-empty code and message, a code from `expect.codes`, and (unless
 * allowed) no programming error anywhere in its cause chain: a catch-all that turns a TypeError into, say,
 * KEY_INVALID would otherwise hide exactly the bugs fuzzing is for.
 */
export function assertNotsotufError(err: unknown, expect: ErrorExpectation): asserts err is NotsotufError {
  if (!isNotsotufError(err)) assert.fail(`expected a NotsotufError, got ${describeError(err)}`);
  assert.ok(typeof err.code === 'string' && err.code.length > 0, 'the error has a code');
  assert.ok(typeof err.message === 'string' && err.message.length > 0, 'the error has a message');
  assert.ok(
    expect.codes.includes(err.code),
    `unexpected code ${err.code} (expected ${expect.codes.join(' or ')}): ${err.message}`,
  );
  if (!expect.foreignCause) {
    let cause: unknown = err.cause;
    for (let depth = 0; cause !== undefined && depth < 16; depth++) {
      if (PROGRAMMING_ERRORS.some((E) => cause instanceof E)) {
        assert.fail(`${err.code} hides a programming error: ${describeError(cause)}`);
      }
      cause = (cause as { cause?: unknown } | null)?.cause;
    }
  }
}

/** Outcomes per property (`ok` or the error code), to show how deep the generated inputs get. */
const outcomeCounts = new Map<string, Map<string, number>>();
let statsScope = '(none)';

/** Counts the outcomes of the following runs under `scope` (the property name). */
export function beginOutcomeStats(scope: string): void {
  statsScope = scope;
}

/** `ok 31%, PATCH_INVALID 69% (of 412 parser calls)` for `scope`. */
export function outcomeSummary(scope: string): string {
  const counts = outcomeCounts.get(scope);
  if (!counts) return 'no parser calls recorded';
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  const parts = [...counts]
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ${((100 * n) / total).toFixed(0)}%`);
  return `${parts.join(', ')} (of ${total} parser calls)`;
}

/** Counts one outcome of the current property (shown by {@link outcomeSummary}). */
export function countOutcome(label: string): void {
  let counts = outcomeCounts.get(statsScope);
  if (!counts) {
    counts = new Map();
    outcomeCounts.set(statsScope, counts);
  }
  counts.set(label, (counts.get(label) ?? 0) + 1);
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: NotsotufError };

function success<T>(value: T): Outcome<T> {
  countOutcome('ok');
  return { ok: true, value };
}

function refusal<T>(err: unknown, expect: ErrorExpectation): Outcome<T> {
  assertNotsotufError(err, expect);
  countOutcome(err.code);
  return { ok: false, error: err };
}

/** Runs `fn`: its value, or the NotsotufError it threw (checked against `expect`); anything else fails. */
export async function outcomeOf<T>(fn: () => T | Promise<T>, expect: ErrorExpectation): Promise<Outcome<T>> {
  try {
    return success(await fn());
  } catch (err) {
    return refusal(err, expect);
  }
}

/** The synchronous {@link outcomeOf}. */
export function outcomeOfSync<T>(fn: () => T, expect: ErrorExpectation): Outcome<T> {
  try {
    return success(fn());
  } catch (err) {
    return refusal(err, expect);
  }
}

/** JSON.stringify(value), or undefined when the value is nested too deeply for it (a RangeError). */
export function stringifiable(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch (err) {
    if (err instanceof RangeError) return undefined;
    throw err;
  }
}

/** Parsing `{"__proto__": {"polluted": ...}}` must never reach Object.prototype. */
export function assertNoPrototypePollution(): void {
  const probe = {} as Record<string, unknown>;
  assert.equal(probe['polluted'], undefined, 'Object.prototype was polluted');
  assert.deepEqual(Object.keys(Object.prototype), [], 'Object.prototype gained enumerable keys');
}

// ---------------------------------------------------------------------------------------------------------------
// Bytes and files

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(b);
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.length))));
}

export async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

/** Asserts that the run directory `dir` holds exactly `names`: nothing partial or temporary is left behind. */
export async function assertDirHolds(dir: string, names: readonly string[], message?: string): Promise<void> {
  assert.deepEqual((await readdir(dir)).sort(), [...names].sort(), message);
}

/** Per-run scratch directories under the suite's directory. */
export class Workspace {
  private n = 0;
  constructor(readonly root: string) {}

  /** Runs `fn` in a fresh directory, removed afterwards (also when `fn` fails). */
  async run<T>(prefix: string, fn: (dir: string) => Promise<T>): Promise<T> {
    const dir = join(this.root, `${prefix}-${this.n++}`);
    await mkdir(dir);
    try {
      return await fn(dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Decoders

/** Output bound given to the decoders: the API's own limit, small so that a bomb is cut short cheaply. */
export const DECODE_LIMIT = 1 << 20;

/** Feeds `bytes` as chunks of the given sizes (cycled), the way a file or network stream would. */
export async function* chunked(bytes: Uint8Array, sizes: readonly number[]): AsyncGenerator<Uint8Array> {
  let i = 0;
  for (let pos = 0; pos < bytes.length; i++) {
    const n = Math.max(1, sizes.length === 0 ? bytes.length : sizes[i % sizes.length]!);
    yield bytes.slice(pos, pos + n);
    pos += n;
  }
}

/** How a decoder's input arrives: chunks of these sizes, cycled (see {@link chunked}). */
export const chunkSizes = fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 5 });

/** A decoder's whole output, checked against {@link DECODE_LIMIT} as it arrives. */
export async function collect(source: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let total = 0;
  for await (const part of source) {
    parts.push(Uint8Array.from(part)); // chunks are views into reused buffers: copy
    total += part.length;
    assert.ok(total <= DECODE_LIMIT, 'the decoder yields no more than its output limit');
  }
  return concatBytes(parts);
}

/** Two ways of decoding the same bytes must agree: the same output, or both refused. */
export function sameOutcome(a: Outcome<Uint8Array>, b: Outcome<Uint8Array>, what: string): void {
  if (a.ok && b.ok) assert.ok(bytesEqual(a.value, b.value), `${what}: both succeed with the same bytes`);
  else if (a.ok !== b.ok) {
    const err = a.ok ? (b as { error: Error }).error : (a as { error: Error }).error;
    assert.fail(`${what}: one way succeeds, the other fails with ${err.message}`);
  }
}

/** For properties that need liblzma to compress (decoding is the project's own). */
export const lzmaAvailable = async (): Promise<boolean> => (await loadLzmaNative()) !== undefined;

/** `data` compressed by liblzma with a 64 KiB dictionary; the property checked {@link lzmaAvailable}. */
export async function lzmaCompressed(data: Uint8Array): Promise<Uint8Array> {
  const z = await lzmaCompress(data, { dictSize: 1 << 16 });
  assert.ok(z, 'liblzma is available (checked by `available`)');
  return z;
}
