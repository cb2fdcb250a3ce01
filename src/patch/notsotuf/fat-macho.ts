/**
 * Universal ("fat") Mach-O files: one whole Mach-O per architecture (x86-64 and arm64 for a macOS app built for
 * both), behind a big-endian table of slices. Each slice is predicted by its own architecture's rule when it is
 * diffed against the same architecture's slice of the old file (create.ts); as one file, neither rule applied.
 */

import { dataView } from './data-view.js';

const FAT_MAGIC = 0xcafebabe;
const FAT_MAGIC_64 = 0xcafebabf;
/**
 * Most slices accepted. Java class files start with the same magic, followed by their version (45 or more where
 * the slice count would be): Apple's tools tell them apart the same way.
 */
const MAX_SLICES = 16;
/** The Mach-O magics a slice starts with (32- and 64-bit, either byte order). */
const MACHO_MAGICS = new Set([0xfeedface, 0xfeedfacf, 0xcefaedfe, 0xcffaedfe]);

export interface FatSlice {
  readonly cpuType: number;
  readonly cpuSubtype: number;
  readonly offset: number;
  readonly size: number;
}

/** A range of a changed file diffed on its own: where it is in the old and in the new version. */
export interface FilePart {
  readonly oldStart: number;
  readonly oldSize: number;
  readonly newStart: number;
  readonly newSize: number;
}

/**
 * The slices of a universal Mach-O of `size` bytes, read through `readAt`, in file order; undefined for any
 * other file, or one whose slice table does not hold up (slices out of order, overlapping, outside the file, or
 * not starting with a Mach-O header).
 */
export function fatSlices(
  readAt: (offset: number, length: number) => Uint8Array,
  size: number,
): FatSlice[] | undefined {
  if (size < 8) return undefined;
  const head = dataView(readAt(0, 8));
  const magic = head.getUint32(0);
  if (magic !== FAT_MAGIC && magic !== FAT_MAGIC_64) return undefined;
  const count = head.getUint32(4);
  const entrySize = magic === FAT_MAGIC ? 20 : 32;
  const tableEnd = 8 + count * entrySize;
  if (count < 1 || count > MAX_SLICES || tableEnd > size) return undefined;
  const table = dataView(readAt(8, count * entrySize));
  const slices: FatSlice[] = [];
  let end = tableEnd;
  for (let i = 0; i < count; i++) {
    const at = i * entrySize;
    const wide = magic === FAT_MAGIC_64;
    const offset = wide ? Number(table.getBigUint64(at + 8)) : table.getUint32(at + 8);
    const sliceSize = wide ? Number(table.getBigUint64(at + 16)) : table.getUint32(at + 12);
    if (offset < end || sliceSize < 4 || offset + sliceSize > size) return undefined;
    slices.push({
      cpuType: table.getUint32(at),
      cpuSubtype: table.getUint32(at + 4),
      offset,
      size: sliceSize,
    });
    end = offset + sliceSize;
  }
  for (const slice of slices)
    if (!MACHO_MAGICS.has(dataView(readAt(slice.offset, 4)).getUint32(0))) return undefined;
  return slices;
}

/**
 * How a changed file of `oldSize` → `newSize` bytes is diffed: as a whole, or, when both versions are universal
 * Mach-Os with the same architectures in the same order, slice against slice with the bytes around them (the
 * table and the alignment padding) as parts of their own. Parts cover the new file in order; empty ones are left
 * out.
 */
export function fileParts(
  old: readonly FatSlice[] | undefined,
  neu: readonly FatSlice[] | undefined,
  oldSize: number,
  newSize: number,
): FilePart[] {
  const sameArchs =
    old !== undefined &&
    neu !== undefined &&
    old.length === neu.length &&
    old.every((s, i) => s.cpuType === neu[i]!.cpuType && s.cpuSubtype === neu[i]!.cpuSubtype);
  if (!sameArchs) return [{ oldStart: 0, oldSize, newStart: 0, newSize }];
  const parts: FilePart[] = [];
  let oldAt = 0;
  let newAt = 0;
  const add = (oldEnd: number, newEnd: number) => {
    if (newEnd > newAt)
      parts.push({ oldStart: oldAt, oldSize: oldEnd - oldAt, newStart: newAt, newSize: newEnd - newAt });
    oldAt = oldEnd;
    newAt = newEnd;
  };
  for (const [i, slice] of neu.entries()) {
    const before = old[i]!;
    add(before.offset, slice.offset);
    add(before.offset + before.size, slice.offset + slice.size);
  }
  add(oldSize, newSize);
  return parts;
}
