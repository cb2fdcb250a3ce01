/**
 * Fuzzing of the notsotuf v2 patch codec with hand-built patches (real compression, chosen instructions and runs)
 * against an independent reference interpreter, and with random streams under a consistent header.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { brotliCompressSync, constants as zlibConstants } from 'node:zlib';
import fc from 'fast-check';
import { bzip2Compress } from '../../../src/patch/bzip2/index.js';
import {
  DIFF_PLAIN,
  DIFF_RUNS,
  encodeHeader as encodeNotsotufHeader,
  METHOD_BROTLI,
  METHOD_BZIP2,
  METHOD_LZMA,
  pushVarint,
  type StreamMethod,
  zigzag,
} from '../../../src/patch/notsotuf/format.js';
import {
  assertMemoryBounded,
  concatBytes,
  exists,
  type FuzzArea,
  type FuzzProperty,
  lzmaAvailable,
  lzmaCompressed,
  type Workspace,
} from './common.js';
import { applyWithCodec, assertAsReference, patternBytes, writePatchFiles } from './patches.js';

interface Op {
  readonly kind: number;
  readonly delta: number;
  readonly length: number;
}

/** The notsotuf v2 semantics (format.ts), written independently as an oracle: the output, or undefined. */
function referenceNotsotuf(
  old: Uint8Array,
  ops: readonly Op[],
  runs: ReadonlyArray<readonly [number, number]> | undefined,
  diffBytes: Uint8Array,
  extra: Uint8Array,
  newSize: number,
): Uint8Array | undefined {
  if (newSize > 1 << 20) return undefined;
  const out = new Uint8Array(newSize);
  let outPos = 0;
  let oldPos = 0;
  let di = 0;
  let ei = 0;
  let pair = 0;
  let zeros = 0;
  let others = 0;
  const nextDiff = (): number | undefined => {
    if (!runs) return di < diffBytes.length ? diffBytes[di++] : undefined;
    while (zeros === 0 && others === 0) {
      const p = runs[pair++];
      if (!p) return undefined;
      [zeros, others] = p;
    }
    if (zeros > 0) {
      zeros--;
      return 0;
    }
    others--;
    return di < diffBytes.length ? diffBytes[di++] : undefined;
  };
  let i = 0;
  for (; outPos < newSize; i++) {
    const op = ops[i];
    if (!op) return undefined;
    if (op.kind === 0 || op.kind === 1) {
      const start = oldPos + op.delta;
      if (op.length === 0 || start < 0 || start + op.length > old.length || outPos + op.length > newSize)
        return undefined;
      for (let j = 0; j < op.length; j++) {
        let b = old[start + j]!;
        if (op.kind === 1) {
          const dbyte = nextDiff();
          if (dbyte === undefined) return undefined;
          b = (b + dbyte) & 0xff;
        }
        out[outPos + j] = b;
      }
      oldPos = start + op.length;
      outPos += op.length;
    } else if (op.kind === 2) {
      if (op.length === 0 || outPos + op.length > newSize || ei + op.length > extra.length) return undefined;
      out.set(extra.subarray(ei, ei + op.length), outPos);
      ei += op.length;
      outPos += op.length;
    } else return undefined;
  }
  const diffDone = di === diffBytes.length && zeros === 0 && others === 0 && (!runs || pair === runs.length);
  if (i !== ops.length || !diffDone || ei !== extra.length) return undefined;
  return out;
}

function encodeOps(ops: readonly Op[]): Uint8Array {
  const out: number[] = [];
  for (const op of ops) {
    out.push(op.kind);
    if (op.kind === 0 || op.kind === 1) {
      pushVarint(out, zigzag(op.delta));
      pushVarint(out, op.length);
    } else if (op.kind === 2) pushVarint(out, op.length);
  }
  return Uint8Array.from(out);
}

async function compressStream(data: Uint8Array, method: StreamMethod): Promise<Uint8Array> {
  if (method === METHOD_BROTLI) {
    return brotliCompressSync(data, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 5 } });
  }
  if (method === METHOD_BZIP2) return bzip2Compress(data);
  return lzmaCompressed(data);
}

/** The patch file: a header consistent with the four streams, then the streams. */
function notsotufPatch(
  streams: readonly Uint8Array[],
  methods: readonly StreamMethod[],
  diffForm: typeof DIFF_PLAIN | typeof DIFF_RUNS,
  oldSize: number,
  newSize: number,
): Uint8Array {
  const header = encodeNotsotufHeader({
    diffForm,
    oldSize,
    newSize,
    lengths: [streams[0]!.length, streams[1]!.length, streams[2]!.length, streams[3]!.length],
    methods: methods as [StreamMethod, StreamMethod, StreamMethod, StreamMethod],
  });
  return concatBytes([header, ...streams]);
}

/** An instruction as the generator means it: raw values, or a copy/add aimed inside the base file. */
interface OpIntent {
  readonly kind: number;
  readonly a: number;
  readonly b: number;
  /** Raw delta and length, used as they are (mostly out of range). */
  readonly raw: { delta: number; length: number } | undefined;
}

/** Turns intents into ops; aimed copies and adds stay inside the base, so whole valid programs are common. */
function concretize(intents: readonly OpIntent[], oldLength: number): Op[] {
  let oldPos = 0;
  return intents.map((i) => {
    if (i.raw || i.kind > 2) return { kind: i.kind, delta: i.raw?.delta ?? 0, length: i.raw?.length ?? 0 };
    if (i.kind === 2 || oldLength === 0) return { kind: 2, delta: 0, length: 1 + (i.b % 64) };
    const start = i.a % oldLength;
    const length = 1 + (i.b % Math.min(64, oldLength - start));
    const op = { kind: i.kind, delta: start - oldPos, length };
    oldPos = start + length;
    return op;
  });
}

/** Run-length pairs (zeros, others) that cover exactly `total` diff bytes, split where `cuts` say. */
function runsCovering(
  total: number,
  cuts: ReadonlyArray<readonly [number, number]>,
): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let left = total;
  for (const [z, o] of cuts) {
    if (left === 0) break;
    const zeros = Math.min(z, left);
    const others = Math.min(o, left - zeros);
    out.push([zeros, others]);
    left -= zeros + others;
  }
  if (left > 0) out.push([0, left]);
  return out;
}

/** Hand-built notsotuf patches (real compression, chosen ops and runs): apply agrees with the reference. */
function notsotufOracleProperty(ws: Workspace): FuzzProperty {
  const intent: fc.Arbitrary<OpIntent> = fc.record({
    kind: fc.oneof(
      { weight: 20, arbitrary: fc.constantFrom(0, 1, 2) },
      { weight: 1, arbitrary: fc.integer({ min: 3, max: 255 }) },
    ),
    a: fc.nat(),
    b: fc.nat(),
    raw: fc.oneof(
      { weight: 8, arbitrary: fc.constant(undefined) },
      {
        weight: 1,
        arbitrary: fc.record({
          delta: fc.oneof(fc.integer({ min: -300, max: 300 }), fc.constantFrom(-(2 ** 40), 2 ** 40)),
          length: fc.oneof(fc.integer({ min: 0, max: 64 }), fc.constantFrom(2 ** 31, 2 ** 40, 2 ** 53 - 1)),
        }),
      },
    ),
  });
  const skew = fc.oneof(
    { weight: 6, arbitrary: fc.constant(0) },
    { weight: 1, arbitrary: fc.integer({ min: -2, max: 2 }) },
  );
  const method = fc.constantFrom<StreamMethod>(METHOD_BROTLI, METHOD_BZIP2, METHOD_LZMA);
  return {
    name: 'notsotuf: hand-built patches apply exactly as a reference interpreter or are refused',
    testRuns: 50,
    weight: 0.5,
    available: lzmaAvailable,
    property: fc.asyncProperty(
      fc.uint8Array({ maxLength: 600 }),
      fc.array(intent, { maxLength: 8 }),
      fc.option(fc.array(fc.tuple(fc.nat(40), fc.nat(40)), { maxLength: 6 }), { nil: undefined }),
      fc.record({ size: skew, diff: skew, extra: skew, old: skew, runs: skew }),
      fc.tuple(method, method, method, method),
      fc.nat(),
      async (old, intents, cuts, skews, methods, seed) =>
        ws.run('notsotuf-oracle', async (d) => {
          const ops = concretize(intents, old.length);
          const total = (k: (o: Op) => boolean) =>
            ops.filter(k).reduce((n, o) => n + Math.min(o.length, 4096), 0);
          const newSize = Math.max(0, ops.reduce((n, o) => n + (o.kind <= 2 ? o.length : 0), 0) + skews.size);
          const added = total((o) => o.kind === 1);
          const runs = cuts === undefined ? undefined : runsCovering(Math.max(0, added + skews.runs), cuts);
          const diffLength = (runs ? runs.reduce((n, [, o]) => n + o, 0) : added) + skews.diff;
          const diffBytes = patternBytes(diffLength, seed + 1, 97, 256);
          const extra = patternBytes(total((o) => o.kind === 2) + skews.extra, seed + 2, 97, 256);
          const declaredOld = Math.max(0, old.length + skews.old);
          const runsBytes: number[] = [];
          for (const [z, o] of runs ?? []) {
            pushVarint(runsBytes, z);
            pushVarint(runsBytes, o);
          }
          const plain = runs === undefined;
          const sources = [encodeOps(ops), Uint8Array.from(runsBytes), diffBytes, extra];
          const used: [StreamMethod, StreamMethod, StreamMethod, StreamMethod] = [...methods];
          const streams: Uint8Array[] = [];
          for (let i = 0; i < 4; i++) {
            if (i === 1 && plain) {
              streams.push(new Uint8Array(0));
              used[1] = METHOD_BROTLI;
              continue;
            }
            streams.push(await compressStream(sources[i]!, used[i]!));
          }
          const patch = notsotufPatch(streams, used, plain ? DIFF_PLAIN : DIFF_RUNS, declaredOld, newSize);
          const files = await writePatchFiles(d, old, patch);
          const reference =
            declaredOld === old.length && newSize <= 2 ** 40
              ? referenceNotsotuf(old, ops, runs, diffBytes, extra, newSize)
              : undefined;
          const r = await applyWithCodec('notsotuf', files, newSize);
          await assertAsReference(r, files, reference, false);
          assertMemoryBounded();
        }),
    ),
  };
}

/** A consistent notsotuf header over random (or validly compressed random) streams: refused or exact size. */
function notsotufStreamsProperty(ws: Workspace, scale: number): FuzzProperty {
  const stream = fc.oneof(
    fc.record({
      method: fc.integer({ min: 0, max: 2 }),
      bytes: fc.uint8Array({ minLength: 1, maxLength: 300 * scale }),
      compress: fc.constant(false),
    }),
    fc.record({
      // Brotli or bzip2 only: these compress without liblzma.
      method: fc.integer({ min: 0, max: 1 }),
      bytes: fc.uint8Array({ maxLength: 300 * scale }),
      compress: fc.constant(true),
    }),
  );
  return {
    name: 'notsotuf: random streams under a consistent header are refused or give exactly the declared size',
    testRuns: 60,
    weight: 1,
    property: fc.asyncProperty(
      fc.uint8Array({ maxLength: 400 }),
      fc.array(stream, { minLength: 4, maxLength: 4 }),
      fc.nat(2000),
      fc.constantFrom(DIFF_RUNS, DIFF_PLAIN),
      async (old, specs, newSize, diffForm) =>
        ws.run('notsotuf-streams', async (d) => {
          const streams: Uint8Array[] = [];
          const methods: StreamMethod[] = [];
          for (const [i, s] of specs.entries()) {
            if (i === 1 && diffForm === DIFF_PLAIN) {
              streams.push(new Uint8Array(0));
              methods.push(METHOD_BROTLI);
              continue;
            }
            const m = s.method as StreamMethod;
            streams.push(s.compress ? await compressStream(s.bytes, m) : s.bytes);
            methods.push(m);
          }
          const patch = notsotufPatch(streams, methods, diffForm, old.length, newSize);
          const files = await writePatchFiles(d, old, patch);
          const r = await applyWithCodec('notsotuf', files, newSize);
          if (r.ok) {
            assert.equal(r.value.size, newSize);
            assert.equal((await readFile(files.outPath)).length, newSize);
          } else assert.ok(!(await exists(files.outPath)), 'no output is left behind');
          assertMemoryBounded();
        }),
    ),
  };
}

export const notsotufPatchProperties: FuzzArea = ({ ws, scale }) => [
  notsotufOracleProperty(ws),
  notsotufStreamsProperty(ws, scale),
];
