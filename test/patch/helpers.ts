/** Shared helpers for the patch tests: temp dirs, deterministic data, external tools, hand-built patches. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants as zlibConstants } from 'node:zlib';
import { encodeHeader, writeInt64 } from '../../src/patch/bsdiff4-header.js';
import { bzip2Compress } from '../../src/patch/index.js';
import { encodeHeader as encodeNotsotufHeader, pushVarint } from '../../src/patch/notsotuf/format.js';
import { applyPatchFile, createPatchFile } from '../../src/patch/registry.js';

export const FIXTURE_TARGETS = fileURLToPath(
  new URL('../fixtures/tufup-repo-v0.10/repository/targets/', import.meta.url),
);
export const FIXTURE_METADATA = fileURLToPath(
  new URL('../fixtures/tufup-repo-v0.10/repository/metadata/targets.json', import.meta.url),
);

export async function tempDir(
  prefix = 'notsotuf-patch-',
): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Whether an external command runs (tests needing Debian's bzip2/bsdiff skip without it). */
export function hasTool(cmd: string, args: string[] = ['--help']): boolean {
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  return r.error === undefined;
}

/** Deterministic pseudo-random bytes (xorshift32), so failures reproduce. */
export function pseudoRandom(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Text-like bytes: words from a small vocabulary, so there is structure to find. */
export function pseudoText(length: number, seed = 1): Uint8Array {
  const words = [
    'const',
    'return',
    'function',
    ' ',
    '\n',
    '{',
    '}',
    'value',
    'index',
    '=',
    ';',
    'export',
    '42',
  ];
  const rnd = pseudoRandom(length, seed);
  const out = new Uint8Array(length);
  let o = 0;
  for (let i = 0; o < length; i++) {
    const w = words[rnd[i % length]! % words.length]!;
    for (let k = 0; k < w.length && o < length; k++) out[o++] = w.charCodeAt(k);
  }
  return out;
}

/** The first 256 bytes of a PE (Windows) executable for `machine`: "MZ", and the PE header at 0x80. */
export function peHeader(machine: number): Buffer {
  const pe = Buffer.alloc(256);
  pe.write('MZ', 0, 'latin1');
  pe.writeUInt32LE(0x80, 0x3c);
  pe.write('PE\0\0', 0x80, 'latin1');
  pe.writeUInt16LE(machine, 0x84);
  return pe;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** A bsdiff4 patch built by hand from explicit controls and blocks, for malformed-patch tests. */
export function buildPatch(parts: {
  controls: Array<[number, number, number]>;
  diff?: Uint8Array;
  extra?: Uint8Array;
  newSize: number;
}): Uint8Array {
  const ctrl = new Uint8Array(parts.controls.length * 24);
  parts.controls.forEach(([a, c, s], i) => {
    writeInt64(ctrl, i * 24, a);
    writeInt64(ctrl, i * 24 + 8, c);
    writeInt64(ctrl, i * 24 + 16, s);
  });
  const ctrlZ = bzip2Compress(ctrl);
  const diffZ = bzip2Compress(parts.diff ?? new Uint8Array(0));
  const extraZ = bzip2Compress(parts.extra ?? new Uint8Array(0));
  const header = encodeHeader({
    controlLength: ctrlZ.length,
    diffLength: diffZ.length,
    newSize: parts.newSize,
  });
  return concat(header, ctrlZ, diffZ, extraZ);
}

/** Runs `fn` and returns the NotsotufError code it threw, or 'OK'. */
export async function codeOf(fn: () => unknown): Promise<string> {
  try {
    await fn();
    return 'OK';
  } catch (err) {
    return (err as { code?: string }).code ?? `non-NotsotufError: ${String(err)}`;
  }
}

/**
 * tufup's bsdiff4 `patch` semantics, in memory, as the oracle for our streaming apply: every control is applied,
 * add bytes whose old position is outside the old file add 0, and the result and both blocks must be used up
 * exactly.
 */
export function referenceApply(
  old: Uint8Array,
  controls: Array<[number, number, number]>,
  diff: Uint8Array,
  extra: Uint8Array,
  newSize: number,
): Uint8Array {
  const out = new Uint8Array(newSize);
  let newPos = 0;
  let oldPos = 0;
  let d = 0;
  let e = 0;
  for (const [x, y, z] of controls) {
    if (x < 0 || y < 0 || newPos + x + y > newSize || d + x > diff.length || e + y > extra.length) {
      throw new Error('corrupt patch (overflow)');
    }
    for (let j = 0; j < x; j++) {
      const o = oldPos + j;
      out[newPos + j] = diff[d + j]! + (o >= 0 && o < old.length ? old[o]! : 0);
    }
    newPos += x;
    oldPos += x;
    d += x;
    out.set(extra.subarray(e, e + y), newPos);
    newPos += y;
    e += y;
    oldPos += z;
  }
  if (newPos !== newSize || d !== diff.length || e !== extra.length)
    throw new Error('corrupt patch (underflow)');
  return out;
}

/**
 * Writes `oldBytes` and `newBytes` to `<prefix>.old` and `<prefix>.new`, makes a notsotuf patch `<prefix>.patch`,
 * applies it with the new file's size and sha256 as the signed ones, and asserts the result is `newBytes`.
 */
export async function notsotufRoundTrip(
  prefix: string,
  oldBytes: Uint8Array,
  newBytes: Uint8Array,
): Promise<{ size: number; old: string; patch: string }> {
  const [old, neu, patch, out] = ['old', 'new', 'patch', 'out'].map((e) => `${prefix}.${e}`) as [
    string,
    string,
    string,
    string,
  ];
  await writeFile(old, oldBytes);
  await writeFile(neu, newBytes);
  const { size } = await createPatchFile({ codec: 'notsotuf', oldPath: old, newPath: neu, outPath: patch });
  await applyPatchFile({
    oldPath: old,
    patchPath: patch,
    outPath: out,
    expected: { size: newBytes.length, sha256: createHash('sha256').update(newBytes).digest('hex') },
  });
  assert.deepEqual(await readFile(out), Buffer.from(newBytes));
  return { size, old, patch };
}

/** One notsotuf instruction: its kind byte, then its fields as varints. */
export function notsotufOp(kind: number, ...fields: number[]): number[] {
  const out = [kind];
  for (const f of fields) pushVarint(out, f);
  return out;
}

/**
 * A hand-made notsotuf patch of format `version` from instructions and extra bytes (brotli streams, no diff):
 * the patch at `<prefix>.hpatch`, its base `base` at `<prefix>.hold`.
 */
export async function handMadeNotsotufPatch(
  prefix: string,
  version: number,
  base: Uint8Array,
  newSize: number,
  ops: number[],
  extra: Uint8Array = new Uint8Array(0),
): Promise<{ old: string; patch: string }> {
  const old = `${prefix}.hold`;
  const patch = `${prefix}.hpatch`;
  await writeFile(old, base);
  const streams = [Uint8Array.from(ops), new Uint8Array(0), new Uint8Array(0), extra].map((s) =>
    brotliCompressSync(s, { params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 4 } }),
  );
  const header = encodeNotsotufHeader({
    version,
    diffForm: 0,
    oldSize: base.length,
    newSize,
    lengths: [streams[0]!.length, streams[1]!.length, streams[2]!.length, streams[3]!.length],
    methods: [0, 0, 0, 0],
  });
  await writeFile(patch, Buffer.concat([header, ...streams]));
  return { old, patch };
}

/** An ELF64 header for `machine` (62: x86-64, 20: PowerPC), the rest zero. */
export function elfHeader(machine: number): Buffer {
  const h = Buffer.alloc(64);
  h.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0);
  h.writeUInt16LE(2, 16);
  h.writeUInt16LE(machine, 18);
  return h;
}

/**
 * A synthetic x86-64 executable: functions of filler bytes with calls to each other's starts. The new version
 * grows every fifth function, so most calls cross a shift and their rel32 changes.
 */
export function x86Program(grow: boolean, machine = 62): Buffer {
  const functions = 400;
  const sizes = Array.from(
    { length: functions },
    (_, i) => 200 + ((i * 37) % 300) + (grow && i % 5 === 0 ? 24 : 0),
  );
  const starts: number[] = [];
  let at = 64;
  for (const size of sizes) {
    starts.push(at);
    at += size;
  }
  const out = Buffer.alloc(at);
  out.set(elfHeader(machine), 0);
  for (const [f, start] of starts.entries()) {
    const end = start + sizes[f]!;
    let x = f * 2654435761 + 1; // per function, so a function's bytes are the same in both versions
    for (let p = start; p < end; p++) {
      x = (x * 1103515245 + 12345) >>> 0;
      out[p] = 0x10 + ((x >>> 16) % 0x30); // no opcode of a predicted field
    }
    // A call every 40 bytes, to a function chosen by position only (the same in both versions).
    for (let p = start + 8, k = 0; p + 5 <= end - 8; p += 40, k++) {
      const callee = starts[(f * 7 + k * 13) % functions]!;
      out[p] = 0xe8;
      out.writeInt32LE(callee - (p + 5), p + 1);
    }
  }
  return out;
}

// Encoders of the instructions the scan knows (registers 0–30, immediates in range).
export const bl = (words: number) => (0x94000000 | (words & 0x3ffffff)) >>> 0;
export const adrp = (rd: number, pages: number) => {
  const imm = pages & 0x1fffff;
  return (0x90000000 | ((imm & 3) << 29) | ((imm >>> 2) << 5) | rd) >>> 0;
};
export const addImm = (rd: number, rn: number, imm12: number) =>
  (0x91000000 | (imm12 << 10) | (rn << 5) | rd) >>> 0;
export const ldrX = (rt: number, rn: number, offset: number) =>
  (0xf9400000 | ((offset / 8) << 10) | (rn << 5) | rt) >>> 0;
/** An instruction the scan leaves alone (ADD, shifted register). */
const other = (seed: number) => (0x8b000000 | (seed & 0x1fffff)) >>> 0;

/**
 * A synthetic arm64 Mach-O: functions of plain instructions, each calling others (BL) and addressing objects in a
 * data area after the code (ADRP + ADD, ADRP + LDR). The new version grows every fifth function, so calls that
 * cross a grown function and every data address change.
 */
export function arm64Program(grow: boolean, cpu = 0x0100000c, header: 'macho' | 'pe' = 'macho'): Buffer {
  const functions = 300;
  const sizes = Array.from(
    { length: functions },
    (_, i) => 40 + ((i * 37) % 60) + (grow && i % 5 === 0 ? 6 : 0),
  );
  const starts: number[] = [];
  let at = 64;
  for (const size of sizes) {
    starts.push(at);
    at += 4 * size;
  }
  const dataStart = at + 16 + (grow ? 200 : 0);
  const objects = 64;
  const out = Buffer.alloc(dataStart + objects * 256);
  if (header === 'pe') {
    // A Windows on Arm executable's header, in the 64 bytes before the code: "MZ", the PE header at 0x20.
    out.write('MZ', 0, 'latin1');
    out.writeUInt32LE(0x20, 0x3c);
    out.write('PE\0\0', 0x20, 'latin1');
    out.writeUInt16LE(cpu, 0x24);
  } else {
    out.writeUInt32LE(0xfeedfacf, 0);
    out.writeUInt32LE(cpu, 4);
  }
  for (const [f, start] of starts.entries()) {
    let x = f * 2654435761 + 1; // per function, so a function's own instructions are the same in both versions
    for (let w = 0; w < sizes[f]!; w++) {
      x = (x * 1103515245 + 12345) >>> 0;
      out.writeUInt32LE(other(x >>> 8), start + 4 * w);
    }
    for (let w = 2, k = 0; w + 2 < sizes[f]!; w += 9, k++) {
      const pc = start + 4 * w;
      if (k % 2 === 0) out.writeUInt32LE(bl((starts[(f * 7 + k * 13) % functions]! - pc) / 4), pc);
      else {
        const target = dataStart + 256 * ((f + k) % objects) + 8 * (k % 4);
        const pages = Math.floor(target / 4096) - Math.floor(pc / 4096);
        out.writeUInt32LE(adrp(k % 8, pages), pc);
        out.writeUInt32LE(
          k % 3 === 0 ? ldrX(9, k % 8, target % 4096) : addImm(k % 8, k % 8, target % 4096),
          pc + 4,
        );
      }
    }
  }
  for (let i = 0; i < objects * 256; i++) out[dataStart + i] = (i * 131 + (i >> 8)) & 0xff;
  return out;
}

/** Apple's code directory hash types (CS_HASHTYPE_*): node's algorithm and the digest's length. */
const CD_HASHES: Record<number, { algorithm: string; size: number }> = {
  1: { algorithm: 'sha1', size: 20 },
  2: { algorithm: 'sha256', size: 32 },
};

/**
 * `macho` (a 64-bit Mach-O with no load commands, as the synthetic programs here are) signed as codesign signs:
 * an LC_CODE_SIGNATURE command, and at the end, 16-byte aligned, a SuperBlob with a code directory per hash type
 * in `types` (the digests of every 4 KiB page before the signature) and a stand-in CMS blob of `cms` bytes.
 */
export function signMachO(macho: Buffer, types: readonly number[] = [2], cms = Buffer.alloc(0)): Buffer {
  const codeLimit = Math.ceil(macho.length / 16) * 16;
  const pages = Math.ceil(codeLimit / 4096);
  const directory = (type: number) => {
    const { size } = CD_HASHES[type]!;
    const ident = Buffer.from('app\0');
    const special = 2;
    const hashOffset = 88 + ident.length + special * size;
    const cd = Buffer.alloc(hashOffset + pages * size);
    cd.writeUInt32BE(0xfade0c02, 0);
    cd.writeUInt32BE(cd.length, 4);
    cd.writeUInt32BE(0x20400, 8);
    cd.writeUInt32BE(hashOffset, 16);
    cd.writeUInt32BE(88, 20);
    cd.writeUInt32BE(special, 24);
    cd.writeUInt32BE(pages, 28);
    cd.writeUInt32BE(codeLimit, 32);
    cd[36] = size;
    cd[37] = type;
    cd[39] = 12;
    ident.copy(cd, 88);
    return cd;
  };
  const blobs = [...types.map(directory), ...(cms.length > 0 ? [cms] : [])];
  const indexSize = 12 + 8 * blobs.length;
  const length = indexSize + blobs.reduce((n, b) => n + b.length, 0);
  const out = Buffer.alloc(codeLimit + length);
  macho.copy(out);
  // The load command, in the header's spare bytes: LC_CODE_SIGNATURE (0x1d), its size, dataoff, datasize.
  out.writeUInt32LE(1, 16);
  out.writeUInt32LE(16, 20);
  out.writeUInt32LE(0x1d, 32);
  out.writeUInt32LE(16, 36);
  out.writeUInt32LE(codeLimit, 40);
  out.writeUInt32LE(length, 44);
  const superBlob = out.subarray(codeLimit);
  superBlob.writeUInt32BE(0xfade0cc0, 0);
  superBlob.writeUInt32BE(length, 4);
  superBlob.writeUInt32BE(blobs.length, 8);
  let at = indexSize;
  for (const [i, blob] of blobs.entries()) {
    superBlob.writeUInt32BE(i < types.length ? (i === 0 ? 0 : 0x1000 + i) : 0x10000, 12 + 8 * i);
    superBlob.writeUInt32BE(at, 16 + 8 * i);
    blob.copy(superBlob, at);
    if (i < types.length) {
      const { algorithm, size } = CD_HASHES[types[i]!]!;
      const slots = at + blob.readUInt32BE(16);
      for (let p = 0; p < pages; p++) {
        const page = out.subarray(p * 4096, Math.min((p + 1) * 4096, codeLimit));
        createHash(algorithm)
          .update(page)
          .digest()
          .copy(superBlob, slots + p * size, 0, size);
      }
    }
    at += blob.length;
  }
  return out;
}
