import { dataView } from './data-view.js';
import type { DeltaFilter } from './delta-filter.js';

/**
 * Where a changed file pair gains from the delta filter: tables in ELF executables and libraries that code moves
 * rewrite entirely. Found by section name in the 64-bit little-endian ELF section headers of both versions; any
 * other file, or a damaged header, has none (the patch is then just less small, never wrong: the applier
 * checks nothing of this, it follows the patch).
 */

/** A region of the new file diffed against a region of the old file, both in filtered form. */
export interface FilterRegion {
  readonly filter: DeltaFilter;
  readonly newStart: number;
  readonly newEnd: number;
  readonly oldStart: number;
  readonly oldEnd: number;
}

interface TableSection {
  readonly name: string;
  /** Bytes of section header before the table. */
  readonly skip: number;
  readonly filter: DeltaFilter;
}

/**
 * The tables whose entries all shift when code moves, so their filtered form compresses far better against the
 * old one: .eh_frame_hdr's binary-search table of (start, FDE) int32 pairs and .rela.dyn's (offset, info, addend)
 * 24-byte records (numbers: docs/patch-formats.md, measurements).
 */
const TABLES: readonly TableSection[] = [
  { name: '.eh_frame_hdr', skip: 12, filter: { word: 4, stride: 8 } },
  { name: '.rela.dyn', skip: 0, filter: { word: 8, stride: 24 } },
];

/** Regions smaller than this are not worth an instruction. */
const MIN_REGION = 4096;

interface Section {
  readonly offset: number;
  readonly size: number;
}

const SHT_NULL = 0;
const SHT_NOBITS = 8;

/** Named sections with file contents of a 64-bit little-endian ELF file, or undefined for anything else. */
export function elfSections(bytes: Uint8Array): Map<string, Section> | undefined {
  if (bytes.length < 64) return undefined;
  if (bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) return undefined;
  if (bytes[4] !== 2 || bytes[5] !== 1) return undefined; // ELFCLASS64, ELFDATA2LSB
  const view = dataView(bytes);
  const u64 = (at: number) => Number(view.getBigUint64(at, true));
  const shoff = u64(0x28);
  const shentsize = view.getUint16(0x3a, true);
  const shnum = view.getUint16(0x3c, true);
  const shstrndx = view.getUint16(0x3e, true);
  if (shentsize < 64 || shnum === 0 || shstrndx >= shnum) return undefined;
  if (shoff + shnum * shentsize > bytes.length) return undefined;
  const header = (i: number) => shoff + i * shentsize;
  const strtab = { offset: u64(header(shstrndx) + 0x18), size: u64(header(shstrndx) + 0x20) };
  if (strtab.offset + strtab.size > bytes.length) return undefined;
  const sections = new Map<string, Section>();
  for (let i = 0; i < shnum; i++) {
    const h = header(i);
    const type = view.getUint32(h + 4, true);
    if (type === SHT_NULL || type === SHT_NOBITS) continue;
    const nameAt = view.getUint32(h, true);
    if (nameAt >= strtab.size) continue;
    let end = strtab.offset + nameAt;
    while (end < strtab.offset + strtab.size && bytes[end] !== 0) end++;
    const name = Buffer.from(bytes.subarray(strtab.offset + nameAt, end)).toString('latin1');
    const section = { offset: u64(h + 0x18), size: u64(h + 0x20) };
    if (section.offset + section.size <= bytes.length) sections.set(name, section);
  }
  return sections;
}

/** The filtered regions for `neu` against `old`, in increasing new offset, not overlapping. */
export function findFilterRegions(old: Uint8Array, neu: Uint8Array): FilterRegion[] {
  const oldSections = elfSections(old);
  const newSections = oldSections && elfSections(neu);
  if (!oldSections || !newSections) return [];
  const regions: FilterRegion[] = [];
  for (const table of TABLES) {
    const o = oldSections.get(table.name);
    const n = newSections.get(table.name);
    if (!o || !n || o.size - table.skip < MIN_REGION || n.size - table.skip < MIN_REGION) continue;
    regions.push({
      filter: table.filter,
      newStart: n.offset + table.skip,
      newEnd: n.offset + n.size,
      oldStart: o.offset + table.skip,
      oldEnd: o.offset + o.size,
    });
  }
  regions.sort((a, b) => a.newStart - b.newStart);
  return regions.filter((r, i) => i === 0 || r.newStart >= regions[i - 1]!.newEnd);
}
