/**
 * Fuzzing of the patch engine and codecs (src/patch/registry.ts) with real patches, mutated, and with random
 * bytes; and the file handling shared with the hand-built patches of bsdiff4.ts and notsotuf-patches.ts.
 */
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { applyPatchFile, codecByName, createPatchFile } from '../../../src/patch/registry.js';
import { rawMember } from '../../archive/raw-tar.js';
import {
  assertDirHolds,
  assertMemoryBounded,
  bytesEqual,
  concatBytes,
  type ErrorExpectation,
  exists,
  type FuzzArea,
  type FuzzProperty,
  type Outcome,
  outcomeOf,
  PATCH_CODEC_CODES,
  sha256Hex,
  type Workspace,
} from './common.js';
import { type Layout, mutated, mutationArb, writeLE } from './mutations.js';

const PATCH_ENGINE_CODES: ErrorExpectation = {
  codes: ['PATCH_INVALID', 'PATCH_CODEC_UNKNOWN', 'PATCH_RESULT_MISMATCH'],
};

/** BSDIFF40: magic, then three sign-magnitude int64 (control length, diff length, new size). */
const BSDIFF4_LAYOUT: Layout = {
  headerSize: 32,
  fields: [
    { offset: 8, width: 8 },
    { offset: 16, width: 8 },
    { offset: 24, width: 8 },
  ],
};
/** notsotuf v2: magic, oldSize, newSize, four stream lengths (uint64), then methods, diff form and reserved bytes. */
const NOTSOTUF_LAYOUT: Layout = {
  headerSize: 72,
  fields: [16, 24, 32, 40, 48, 56].map((offset) => ({ offset, width: 8 })),
};

// ---------------------------------------------------------------------------------------------------------------
// The files of one patch run

/** The files of a patch run: the base file, the patch, and the output the patch builds. */
export interface PatchFiles {
  readonly oldPath: string;
  readonly patchPath: string;
  readonly outPath: string;
}

function patchFiles(dir: string): PatchFiles {
  return { oldPath: join(dir, 'old'), patchPath: join(dir, 'patch'), outPath: join(dir, 'out') };
}

/** Writes the base file and the patch of a run in `dir`. */
export async function writePatchFiles(dir: string, old: Uint8Array, patch: Uint8Array): Promise<PatchFiles> {
  const files = patchFiles(dir);
  await writeFile(files.oldPath, old);
  await writeFile(files.patchPath, patch);
  return files;
}

/** Applies the patch directly with one codec, told the size the output must have. */
export function applyWithCodec(
  codec: 'bsdiff4' | 'notsotuf',
  files: PatchFiles,
  expectedSize: number | undefined,
): Promise<Outcome<{ size: number }>> {
  return outcomeOf(() => codecByName(codec).apply({ ...files, expectedSize }), PATCH_CODEC_CODES);
}

/**
 * A hand-built patch must apply exactly as the reference implementation (`reference`, undefined when it refuses)
 * or be refused without leaving output; `mayRefuse` allows a refusal of what the reference applies.
 */
export async function assertAsReference(
  r: Outcome<unknown>,
  files: PatchFiles,
  reference: Uint8Array | undefined,
  mayRefuse: boolean,
): Promise<void> {
  if (r.ok) {
    assert.ok(reference, 'the codec applied a patch the reference refuses');
    assert.ok(bytesEqual(await readFile(files.outPath), reference), 'the codec output equals the reference');
  } else {
    assert.ok(!(await exists(files.outPath)), 'no output is left behind');
    if (reference && !mayRefuse)
      assert.fail(`the codec refused a patch the reference applies: ${r.error.message}`);
  }
}

/** `n` (at most 4096) deterministic bytes `(start + i * step) % modulus`: the payload of a hand-built patch. */
export function patternBytes(n: number, start: number, step: number, modulus: number): Uint8Array {
  const out = new Uint8Array(Math.max(0, Math.min(n, 4096)));
  for (let i = 0; i < out.length; i++) out[i] = (start + i * step) % modulus;
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Real patches, mutated

interface Edit {
  readonly at: number;
  readonly del: number;
  readonly ins: Uint8Array;
}

function applyEdits(base: Uint8Array, edits: readonly Edit[]): Uint8Array {
  let b = base;
  for (const e of edits) {
    const at = e.at % (b.length + 1);
    b = concatBytes([b.subarray(0, at), e.ins, b.subarray(Math.min(b.length, at + e.del))]);
  }
  return b;
}

/** A small tar (hand-built headers) for the tar-aware planning of the notsotuf codec. */
function smallTar(files: ReadonlyArray<readonly [string, Uint8Array]>): Uint8Array {
  return concatBytes([
    ...files.map(([name, data]) => rawMember({ name: `./${name}`, data: Buffer.from(data) })),
    new Uint8Array(1024),
  ]);
}

function patchPairArb(scale: number): fc.Arbitrary<{ old: Uint8Array; neu: Uint8Array }> {
  const max = 1500 * scale;
  const lowEntropy = fc
    .array(fc.constantFrom(0, 1, 0x20, 0x41, 0x61, 0xff), { maxLength: max })
    .map((a) => Uint8Array.from(a));
  const edits = fc.array(
    fc.record({ at: fc.nat(), del: fc.nat(200), ins: fc.uint8Array({ maxLength: 200 }) }),
    { maxLength: 4 },
  );
  const fileArb = fc.tuple(fc.stringMatching(/^[a-z]{1,6}$/), fc.uint8Array({ maxLength: 700 }));
  const tarPair = fc
    .tuple(fc.uniqueArray(fileArb, { maxLength: 4, selector: ([n]) => n }), edits, fc.nat(4))
    .map(([files, e, which]) => {
      const changed = files.map(([n, d], i) => [n, i === which ? applyEdits(d, e) : d] as const);
      return { old: smallTar(files), neu: smallTar(changed) };
    });
  return fc.oneof(
    fc.record({ old: fc.uint8Array({ maxLength: max }), neu: fc.uint8Array({ maxLength: max }) }),
    fc
      .tuple(fc.uint8Array({ minLength: 1, maxLength: max }), edits)
      .map(([old, e]) => ({ old, neu: applyEdits(old, e) })),
    fc.tuple(lowEntropy, edits).map(([old, e]) => ({ old, neu: applyEdits(old, e) })),
    tarPair,
  );
}

/**
 * Creates a real patch with the codec, mutates it, and applies it through the engine (codec identified by magic,
 * result checked against the signed size and sha256) or directly through the codec. Afterwards the run directory
 * must hold exactly the inputs, plus the output only on success: no partial output, no temp file.
 */
function mutatedPatchProperty(
  ws: Workspace,
  codecName: 'bsdiff4' | 'notsotuf',
  layout: Layout,
  scale: number,
): FuzzProperty {
  return {
    name: `${codecName}: mutated real patches are refused or rebuild exactly the new file`,
    testRuns: 40,
    weight: 0.5,
    property: fc.asyncProperty(
      patchPairArb(scale),
      mutationArb(layout),
      fc.constantFrom('engine', 'codec', 'codec-sized'),
      async ({ old, neu }, mutations, via) =>
        ws.run(codecName, async (d) => {
          const files = patchFiles(d);
          const { oldPath, patchPath, outPath } = files;
          const newPath = join(d, 'new');
          await writeFile(oldPath, old);
          await writeFile(newPath, neu);
          await createPatchFile({ codec: codecName, oldPath, newPath, outPath: patchPath });
          await rm(newPath);
          const good = new Uint8Array(await readFile(patchPath));
          const { bytes: bad, intact } = mutated(good, mutations, layout);
          await writeFile(patchPath, bad);
          const expected = { size: neu.length, sha256: sha256Hex(neu) };
          let ok: boolean;
          let detail = '';
          if (via === 'engine') {
            const r = await outcomeOf(
              () => applyPatchFile({ oldPath, patchPath, outPath, expected }),
              PATCH_ENGINE_CODES,
            );
            ok = r.ok;
            if (r.ok) {
              assert.equal(r.value.codec, codecName);
              assert.equal(r.value.size, neu.length);
              assert.equal(r.value.sha256, expected.sha256);
              assert.equal(sha256Hex(await readFile(outPath)), expected.sha256, 'the output is the new file');
            } else detail = r.error.message;
          } else {
            const expectedSize = via === 'codec-sized' ? neu.length : undefined;
            const r = await applyWithCodec(codecName, files, expectedSize);
            ok = r.ok;
            if (r.ok) {
              const out = await readFile(outPath);
              assert.equal(out.length, r.value.size, 'the reported size is the output size');
              if (expectedSize !== undefined) assert.equal(out.length, expectedSize);
              if (intact) assert.ok(bytesEqual(out, neu), 'the unmutated patch rebuilds the new file');
            } else detail = r.error.message;
          }
          if (!ok) assert.ok(!intact, `the unmutated patch was refused: ${detail}`);
          await assertDirHolds(
            d,
            ok ? ['old', 'out', 'patch'] : ['old', 'patch'],
            'nothing but the output is left behind',
          );
          assertMemoryBounded();
        }),
    ),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Random bytes

/** Random bytes, optionally behind a codec's magic, never apply (and never leave anything behind). */
function randomPatchProperty(ws: Workspace, scale: number): FuzzProperty {
  const max = 2000 * scale;
  const body = fc.uint8Array({ maxLength: max });
  const patchBytes = fc.oneof(
    body,
    body.map((b) => concatBytes([Buffer.from('BSDIFF40'), b])),
    body.map((b) => concatBytes([Buffer.from('NOTSOTUF-PATCH\u0000\u0002', 'latin1'), b])),
    body.map((b) => concatBytes([Buffer.from('NOTSOTUF-PATCH\u0000', 'latin1'), b])),
    fc
      .tuple(fc.array(fc.bigInt({ min: -(2n ** 53n), max: 2n ** 53n }), { minLength: 3, maxLength: 3 }), body)
      .map(([fields, b]) => {
        const head = new Uint8Array(32);
        head.set(Buffer.from('BSDIFF40'));
        fields.forEach((v, i) => {
          writeLE(head, 8 + 8 * i, 8, v < 0n ? -v : v);
          if (v < 0n) head[8 + 8 * i + 7]! |= 0x80;
        });
        return concatBytes([head, b]);
      }),
  );
  return {
    name: 'patch-engine: arbitrary bytes are refused and leave nothing behind',
    testRuns: 60,
    weight: 1,
    property: fc.asyncProperty(
      patchBytes,
      fc.uint8Array({ maxLength: 1000 }),
      fc.nat(5000),
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      async (patch, old, size, digest) =>
        ws.run('random-patch', async (d) => {
          const { oldPath, patchPath, outPath } = await writePatchFiles(d, old, patch);
          const expected = { size, sha256: Buffer.from(digest).toString('hex') };
          const r = await outcomeOf(
            () => applyPatchFile({ oldPath, patchPath, outPath, expected }),
            PATCH_ENGINE_CODES,
          );
          if (r.ok) {
            // Only possible if the random bytes were a patch to a file with a random sha256: the engine checked it.
            assert.equal(r.value.sha256, expected.sha256);
            assert.equal(sha256Hex(await readFile(outPath)), expected.sha256);
          }
          await assertDirHolds(d, r.ok ? ['old', 'out', 'patch'] : ['old', 'patch']);
          assertMemoryBounded();
        }),
    ),
  };
}

export const patchProperties: FuzzArea = ({ ws, scale }) => [
  mutatedPatchProperty(ws, 'bsdiff4', BSDIFF4_LAYOUT, scale),
  mutatedPatchProperty(ws, 'notsotuf', NOTSOTUF_LAYOUT, scale),
  randomPatchProperty(ws, scale),
];
