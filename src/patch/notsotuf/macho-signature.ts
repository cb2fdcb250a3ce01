/**
 * The page digests in a Mach-O's code signature. Every Mach-O that runs on Apple silicon is signed (ad hoc at
 * least), and its code directory holds a digest of every 4 KiB page of the file before the signature: when code
 * moves, nearly every page's digest changes into bytes no diff can predict (esbuild for macOS, arm64: 76.6 KB of a
 * 138.4 KB patch). The creator lets the applier recompute them from the output instead (format.ts, PAGES and
 * DIGESTS), after checking here that they are the digests of the new file's pages.
 */
import { dataView } from './data-view.js';
import { PAGE_HASHES } from './format.js';
import { PageHasher } from './page-hashes.js';

const MH_MAGIC = 0xfeedface;
const MH_MAGIC_64 = 0xfeedfacf;
const LC_CODE_SIGNATURE = 0x1d;
const SUPERBLOB = 0xfade0cc0;
const CODE_DIRECTORY = 0xfade0c02;
/** Code directories from this version on have a 64-bit code limit (it must be 0: files under 4 GiB). */
const CD_CODE_LIMIT_64 = 0x20300;
/** Code directories from this version on have a scatter vector (it must be 0: none). */
const CD_SCATTER = 0x20100;
/** Most blobs in a signature looked at (a real one has 3 to 8). */
const MAX_BLOBS = 64;

/** The hash slots of one code directory: `count` digests of `type`, `size` bytes each, at `start` in the file. */
export interface DigestSlots {
  readonly type: number;
  readonly size: number;
  readonly start: number;
  readonly count: number;
}

/** The page digests a signature holds: pages of 2^pageShift bytes over [0, codeLimit), and where they are. */
export interface SignatureDigests {
  readonly pageShift: number;
  readonly codeLimit: number;
  /** Bit t set for each hash type t in `slots`. */
  readonly types: number;
  /** In file order. */
  readonly slots: readonly DigestSlots[];
  /** Where the signature starts in the file. */
  readonly signatureStart: number;
}

/**
 * The page digests of a thin Mach-O of `size` bytes read through `readAt`, when its signature's code directories
 * hold up and their slots are the digests of its pages (checked by hashing them); undefined otherwise. Code
 * directories with another page size or code limit than the first are left to the diff.
 */
export function signatureDigests(
  readAt: (offset: number, length: number) => Uint8Array,
  size: number,
): SignatureDigests | undefined {
  const found = signatureDirectories(readAt, size);
  if (!found) return undefined;
  const { pageShift, codeLimit, slots } = found;
  const hasher = new PageHasher(pageShift, codeLimit, typeMask(slots));
  for (let at = 0; at < codeLimit; at += 1 << 22) {
    const length = Math.min(1 << 22, codeLimit - at);
    hasher.update(readAt(at, length), length);
  }
  const real = slots.filter((s) =>
    Buffer.from(readAt(s.start, s.count * s.size)).equals(hasher.digestsOf(s.type, 0, s.count)),
  );
  if (real.length === 0) return undefined;
  return {
    pageShift,
    codeLimit,
    types: typeMask(real),
    slots: real,
    signatureStart: found.signatureStart,
  };
}

/** Where the signature is, by the load commands: [dataoff, dataoff + datasize), or undefined. */
export function signatureRange(
  readAt: (offset: number, length: number) => Uint8Array,
  size: number,
): { start: number; size: number } | undefined {
  if (size < 32) return undefined;
  const head = dataView(readAt(0, 32));
  const magic = head.getUint32(0, true);
  if (magic !== MH_MAGIC && magic !== MH_MAGIC_64) return undefined;
  const headerSize = magic === MH_MAGIC_64 ? 32 : 28;
  const ncmds = head.getUint32(16, true);
  const sizeofcmds = head.getUint32(20, true);
  if (headerSize + sizeofcmds > size) return undefined;
  const cmds = dataView(readAt(headerSize, sizeofcmds));
  for (let i = 0, at = 0; i < ncmds && at + 8 <= sizeofcmds; i++) {
    const cmd = cmds.getUint32(at, true);
    const cmdsize = cmds.getUint32(at + 4, true);
    if (cmdsize < 8 || at + cmdsize > sizeofcmds) return undefined;
    if (cmd === LC_CODE_SIGNATURE && cmdsize >= 16) {
      const start = cmds.getUint32(at + 8, true);
      const length = cmds.getUint32(at + 12, true);
      return start + length <= size && length >= 12 ? { start, size: length } : undefined;
    }
    at += cmdsize;
  }
  return undefined;
}

/** The signature's code directories whose slots are where the format says (not yet checked against the pages). */
function signatureDirectories(
  readAt: (offset: number, length: number) => Uint8Array,
  size: number,
): { pageShift: number; codeLimit: number; slots: DigestSlots[]; signatureStart: number } | undefined {
  const range = signatureRange(readAt, size);
  if (!range) return undefined;
  const sig = Buffer.from(readAt(range.start, range.size));
  if (sig.readUInt32BE(0) !== SUPERBLOB) return undefined;
  const count = sig.readUInt32BE(8);
  if (count > MAX_BLOBS || 12 + 8 * count > sig.length) return undefined;
  let shape: { pageShift: number; codeLimit: number } | undefined;
  const slots: DigestSlots[] = [];
  for (let i = 0; i < count; i++) {
    const offset = sig.readUInt32BE(12 + 8 * i + 4);
    if (offset + 44 > sig.length || sig.readUInt32BE(offset) !== CODE_DIRECTORY) continue;
    const cd = sig.subarray(offset);
    const version = cd.readUInt32BE(8);
    const hashOffset = cd.readUInt32BE(16);
    const nCodeSlots = cd.readUInt32BE(28);
    const codeLimit = cd.readUInt32BE(32);
    const hashSize = cd[36]!;
    const type = cd[37]!;
    const pageShift = cd[39]!;
    if (version >= CD_SCATTER && (cd.length < 48 || cd.readUInt32BE(44) !== 0)) continue;
    if (version >= CD_CODE_LIMIT_64 && (cd.length < 64 || cd.readBigUInt64BE(56) !== 0n)) continue;
    if (PAGE_HASHES[type]?.size !== hashSize || pageShift < 12 || pageShift > 16) continue;
    const start = range.start + offset + hashOffset;
    if (nCodeSlots !== Math.ceil(codeLimit / 2 ** pageShift) || nCodeSlots === 0) continue;
    // The pages come before the slots in the output, so the applier has hashed them when it writes the slots.
    if (codeLimit > start || offset + hashOffset + nCodeSlots * hashSize > sig.length) continue;
    shape ??= { pageShift, codeLimit };
    if (shape.pageShift !== pageShift || shape.codeLimit !== codeLimit) continue;
    slots.push({ type, size: hashSize, start, count: nCodeSlots });
  }
  if (!shape || slots.length === 0) return undefined;
  slots.sort((a, b) => a.start - b.start);
  for (let i = 1; i < slots.length; i++) {
    const before = slots[i - 1]!;
    if (before.start + before.count * before.size > slots[i]!.start) return undefined;
  }
  return { ...shape, slots, signatureStart: range.start };
}

/** The PAGES `types` mask of `slots`: bit t for each hash type t. */
function typeMask(slots: readonly DigestSlots[]): number {
  return slots.reduce((mask, s) => mask | (1 << s.type), 0);
}
