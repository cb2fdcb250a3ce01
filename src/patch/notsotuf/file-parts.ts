import { isArm64Executable } from './arm64.js';
import { type ExecutableKind, emitFile } from './emit.js';
import { type FilePart, fatSlices, fileParts } from './fat-macho.js';
import { matchLazily, type PackedFileMatches, unpackFileMatches } from './file-matches.js';
import type { FileSlices } from './file-slices.js';
import { signatureDigests, signatureRange } from './macho-signature.js';
import type { Matcher } from './matcher.js';
import type { OpsWriter } from './ops-writer.js';
import { isX86Executable } from './rel32.js';

/** The old and new files, open, and read in slices. */
export interface Inputs {
  readonly old: FileSlices;
  readonly neu: FileSlices;
}

/**
 * A part of a changed file: diffed against its old range, or, with `digests`, output as page digests that the
 * applier computes (a code directory's slots); with `pages`, page hashing starts where it does (format.ts).
 */
export interface ChangedPart extends FilePart {
  readonly pages?: { readonly pageShift: number; readonly limit: number; readonly types: number };
  readonly digests?: { readonly type: number; readonly count: number };
}

/** The kind of executable both versions are, if they are one: their code is predicted (rel32.ts, arm64.ts). */
function executableKind(old: Uint8Array, neu: Uint8Array): ExecutableKind | undefined {
  if (isX86Executable(old) && isX86Executable(neu)) return 'x86';
  if (isArm64Executable(old) && isArm64Executable(neu)) return 'arm64';
  return undefined;
}

/**
 * The parts a changed file is diffed in, at their offsets in the old and new file: the whole file, or the slices
 * of a universal Mach-O and the bytes around them (fat-macho.ts); a signed Mach-O (or slice) further cut around
 * its code directories' page digests (macho-signature.ts).
 */
export function changedParts(
  { old, neu }: Inputs,
  oldStart: number,
  oldSize: number,
  newStart: number,
  newSize: number,
): ChangedPart[] {
  const slices = (file: FileSlices, start: number, size: number) =>
    fatSlices((at, length) => file.read(start + at, length), size);
  const parts = fileParts(slices(old, oldStart, oldSize), slices(neu, newStart, newSize), oldSize, newSize);
  return parts.flatMap((p) =>
    signedParts({ old, neu }, { ...p, oldStart: oldStart + p.oldStart, newStart: newStart + p.newStart }),
  );
}

/**
 * `part` as is, or, when its new bytes are a signed Mach-O whose page digests check out: page hashing from its
 * start, the bytes before the first digests diffed against the whole old part, each code directory's digests
 * output by the applier, and the rest of the signature diffed against the old part's signature (or all of it).
 */
function signedParts({ old, neu }: Inputs, part: FilePart): ChangedPart[] {
  const readNew = (at: number, length: number) => neu.read(part.newStart + at, length);
  const signed = part.oldSize > 0 ? signatureDigests(readNew, part.newSize) : undefined;
  if (!signed) return [part];
  const oldSignature = signatureRange((at, length) => old.read(part.oldStart + at, length), part.oldSize);
  const tail = oldSignature
    ? { oldStart: part.oldStart + oldSignature.start, oldSize: part.oldSize - oldSignature.start }
    : { oldStart: part.oldStart, oldSize: part.oldSize };
  const parts: ChangedPart[] = [];
  let at = 0;
  for (const slots of signed.slots) {
    const before = { newStart: part.newStart + at, newSize: slots.start - at };
    if (parts.length === 0) {
      const { pageShift, codeLimit, types } = signed;
      parts.push({
        ...before,
        oldStart: part.oldStart,
        oldSize: part.oldSize,
        pages: { pageShift, limit: codeLimit, types },
      });
    } else if (before.newSize > 0) parts.push({ ...before, ...tail });
    const size = slots.count * slots.size;
    parts.push({
      oldStart: 0,
      oldSize: 0,
      newStart: part.newStart + slots.start,
      newSize: size,
      digests: { type: slots.type, count: slots.count },
    });
    at = slots.start + size;
  }
  if (at < part.newSize) parts.push({ newStart: part.newStart + at, newSize: part.newSize - at, ...tail });
  return parts;
}

/**
 * Emits one part of a changed file: with the worker's matches when it matched the part (`worked`), else matched
 * here; a part with no old bytes is inserted, one of page digests is left to the applier.
 */
export async function emitPart(
  w: OpsWriter,
  { old, neu }: Inputs,
  part: ChangedPart,
  matcher: Matcher,
  worked: Promise<PackedFileMatches | undefined> | undefined,
): Promise<void> {
  if (part.pages) w.pages(part.pages.pageShift, part.pages.limit, part.pages.types);
  if (part.digests) return w.digests(part.digests.type, 0, part.digests.count);
  const matches = await worked;
  // Each read has its own buffer (old, new): both stay valid until the next read of the same file.
  const data = neu.read(part.newStart, part.newSize);
  if (part.oldSize === 0) return w.insert(data);
  const oldData = old.read(part.oldStart, part.oldSize);
  const found = matches ? unpackFileMatches(matches) : matchLazily(oldData, data, matcher);
  await emitFile(w, part.oldStart, oldData, data, found, executableKind(oldData, data));
}
