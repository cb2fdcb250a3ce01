import { dataView } from './data-view.js';
import { peMachine } from './pe-header.js';
import type { OldToNew } from './rel32.js';

/**
 * arm64 branch and address prediction (format version 5, PREDICT mode 2). When code or data moves, an arm64
 * executable changes in two kinds of instructions wherever a target moved by a different amount than the code:
 * - `B`/`BL imm26`: a branch or call, 4 × imm26 bytes from the instruction;
 * - `ADRP Xd, page` followed by `ADD Xd, Xd, #lo12` or a load or store `[Xd, #lo12]`: ADRP gives the target's
 *   4 KiB page relative to the instruction's page, the next instruction the offset in the page.
 * As for x86 (rel32.ts), the old instruction's target is mapped through the section's runs and the new bytes are
 * diffed against the instruction that mapping predicts. The rule reads only old bytes and positions, so the
 * applier makes the same prediction before it has the new bytes.
 *
 * ADRP's page arithmetic needs positions in the executable, not in the tar: a section's `origins` are where the
 * file starts in the old and the new tar. Addresses are taken as file offsets, which holds where segment addresses
 * and file offsets differ by the same multiple of 4 KiB (as Mach-O linkers lay them out); where not, a prediction
 * is wrong and costs diff bytes, never correctness.
 */

/** The instruction after an ADRP that completes its address, by bits 31–22: the scale of its 12-bit offset. */
const LO12_SCALE = new Map<number, number>([
  [0x91000000, 1], // ADD Xd, Xn, #imm (no shift)
  [0x39400000, 1], // LDRB
  [0x39000000, 1], // STRB
  [0x79400000, 2], // LDRH
  [0x79000000, 2], // STRH
  [0xb9400000, 4], // LDR Wt
  [0xb9000000, 4], // STR Wt
  [0xb9800000, 4], // LDRSW
  [0xbd400000, 4], // LDR St
  [0xbd000000, 4], // STR St
  [0xf9400000, 8], // LDR Xt
  [0xf9000000, 8], // STR Xt
  [0xfd400000, 8], // LDR Dt
  [0xfd000000, 8], // STR Dt
  [0x3dc00000, 16], // LDR Qt
  [0x3d800000, 16], // STR Qt
]);

const PAGE = 4096;

/** Where a predicted section's file starts in the old and in the new input (both 0 outside a tar). */
export interface Origins {
  readonly old: number;
  readonly neu: number;
}

function word(bytes: Uint8Array, at: number): number {
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0;
}

/** A signed field of `bits` bits. */
function signed(value: number, bits: number): number {
  return value >= 2 ** (bits - 1) ? value - 2 ** bits : value;
}

/**
 * Visits the predicted instructions of one chunk: `old[0, n)` are the old bytes at old offset `oldBase`, output
 * at new offset `newBase`. An instruction lies at a multiple of 4 in both files and wholly in the chunk, and its
 * old target maps through `map` to a new one it can encode. `visit(at, first, second)` gets its chunk offset and
 * the predicted words: a branch (`second` undefined) or an ADRP and the instruction after it.
 */
export function forEachPredictedInstruction(
  old: Uint8Array,
  n: number,
  newBase: number,
  oldBase: number,
  origins: Origins,
  map: OldToNew,
  visit: (at: number, first: number, second: number | undefined) => void,
): void {
  const newPc0 = newBase - origins.neu;
  const oldPc0 = oldBase - origins.old;
  // A chunk whose two sides are not equally aligned holds no instruction at a multiple of 4 in both.
  if ((newPc0 - oldPc0) % 4 !== 0) return;
  for (let i = (4 - (oldPc0 % 4)) % 4; i + 4 <= n; i += 4) {
    const first = word(old, i);
    if ((first & 0x7c000000) === 0x14000000) {
      const oldTarget = oldPc0 + i + 4 * signed(first & 0x3ffffff, 26);
      const mapped = map.map(oldTarget + origins.old);
      if (mapped === undefined) continue;
      const distance = (mapped - origins.neu - (newPc0 + i)) / 4;
      if (!Number.isInteger(distance) || distance < -(2 ** 25) || distance >= 2 ** 25) continue;
      visit(i, ((first & 0xfc000000) | (distance & 0x3ffffff)) >>> 0, undefined);
      continue;
    }
    if (i + 8 > n || (first & 0x9f000000) >>> 0 !== 0x90000000) continue;
    const second = word(old, i + 4);
    const scale = LO12_SCALE.get((second & 0xffc00000) >>> 0);
    if (scale === undefined || ((second >>> 5) & 31) !== (first & 31)) continue;
    const oldPages = signed((((first >>> 5) & 0x7ffff) << 2) | ((first >>> 29) & 3), 21);
    const oldPc = oldPc0 + i;
    const oldTarget = (Math.floor(oldPc / PAGE) + oldPages) * PAGE + ((second >>> 10) & 0xfff) * scale;
    const mapped = map.map(oldTarget + origins.old);
    if (mapped === undefined) continue;
    const newTarget = mapped - origins.neu;
    const pages = Math.floor(newTarget / PAGE) - Math.floor((newPc0 + i) / PAGE);
    const inPage = newTarget - Math.floor(newTarget / PAGE) * PAGE;
    if (pages < -(2 ** 20) || pages >= 2 ** 20 || inPage % scale !== 0) continue;
    const imm = pages & 0x1fffff;
    const adrp = ((first & 0x9f00001f) | ((imm & 3) << 29) | ((imm >>> 2) << 5)) >>> 0;
    visit(i, adrp, ((second & 0xffc003ff) | ((inPage / scale) << 10)) >>> 0);
    i += 4;
  }
}

/**
 * True for an arm64 executable or library by its header: Mach-O (CPU type 0x0100000c), ELF (e_machine 183) or PE
 * (machine 0xaa64, Windows on Arm). A PE's sections lie at other offsets within their 4 KiB pages in the file than
 * in memory, so some ADRP predictions are wrong there (docs/patch-formats.md has what PE still gains).
 */
export function isArm64Executable(bytes: Uint8Array): boolean {
  if (bytes.length < 64) return false;
  const view = dataView(bytes);
  if (bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46) {
    return bytes[5] === 1 && view.getUint16(18, true) === 183;
  }
  if (bytes[0] === 0x4d && bytes[1] === 0x5a) return peMachine(bytes) === 0xaa64;
  return view.getUint32(0, true) === 0xfeedfacf && view.getUint32(4, true) === 0x0100000c;
}
