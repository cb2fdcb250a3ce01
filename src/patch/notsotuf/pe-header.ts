import { dataView } from './data-view.js';

/**
 * The machine field of a PE (Windows .exe/.dll) header: "MZ", the PE header's offset at 0x3c, "PE\0\0" there and
 * the machine after it (0x14c x86, 0x8664 x86-64, 0xaa64 arm64). Undefined for anything else.
 */
export function peMachine(bytes: Uint8Array): number | undefined {
  if (bytes.length < 64 || bytes[0] !== 0x4d || bytes[1] !== 0x5a) return undefined;
  const view = dataView(bytes);
  const pe = view.getUint32(0x3c, true);
  if (pe + 6 > bytes.length || view.getUint32(pe, true) !== 0x4550) return undefined;
  return view.getUint16(pe + 4, true);
}
