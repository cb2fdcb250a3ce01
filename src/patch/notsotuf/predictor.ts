import { forEachPredictedInstruction, type Origins } from './arm64.js';
import { PREDICT_ARM64, PREDICT_X86 } from './format.js';
import { forEachPredictedField, type OldToNew } from './rel32.js';

/** What a predicted section predicts (format.ts, PREDICT): x86 fields, or arm64 instructions. */
export type PredictMode =
  | { readonly kind: typeof PREDICT_X86 }
  /** `oldOrigin`: where the section's file starts in the base (its start in the new output is the section's). */
  | { readonly kind: typeof PREDICT_ARM64; readonly oldOrigin: number };

/**
 * A predicted section's rule for one chunk of an ADD, on each side: new bytes `neu[0, n)` at new offset
 * `newBase`, made from old bytes `old[0, n)` at old offset `oldBase`. The creator turns `d` (new − old) into the
 * diff against the prediction; the applier turns `neu` (old + diff) into the new bytes.
 */
export interface SectionPredictor {
  diff(d: Uint8Array, neu: Uint8Array, old: Uint8Array, n: number, newBase: number, oldBase: number): void;
  apply(neu: Uint8Array, old: Uint8Array, n: number, newBase: number, oldBase: number): void;
}

/**
 * One kind's scan of a chunk (arguments as SectionPredictor's): `visit(at, first, second)` for each predicted
 * instruction, with its chunk offset and its predicted bytes: the 4 little-endian bytes of `first` (taken mod
 * 2^32), then those of `second` when there is one.
 */
type Scan = (
  neu: Uint8Array,
  old: Uint8Array,
  n: number,
  newBase: number,
  oldBase: number,
  visit: (at: number, first: number, second: number | undefined) => void,
) => void;

/** Byte `k` (little-endian) of the predicted bytes: 0–3 of `first`, 4–7 of `second`. */
function predictedByte(first: number, second: number | undefined, k: number): number {
  return ((k < 4 ? first : second!) >>> (8 * (k & 3))) & 0xff;
}

/** Both sides of a scan: the predicted bytes are new = prediction + diff, where other bytes are new = old + diff. */
function predictorOf(scan: Scan): SectionPredictor {
  return {
    diff: (d, neu, old, n, newBase, oldBase) =>
      scan(neu, old, n, newBase, oldBase, (at, first, second) => {
        const length = second === undefined ? 4 : 8;
        for (let k = 0; k < length; k++) d[at + k] = (neu[at + k]! - predictedByte(first, second, k)) & 0xff;
      }),
    apply: (neu, old, n, newBase, oldBase) =>
      scan(neu, old, n, newBase, oldBase, (at, first, second) => {
        const length = second === undefined ? 4 : 8;
        for (let k = 0; k < length; k++)
          neu[at + k] = (neu[at + k]! - old[at + k]! + predictedByte(first, second, k)) & 0xff;
      }),
  };
}

/** The predictor of a section in `mode` whose runs map as `map` and which starts at `sectionStart` in the output. */
export function sectionPredictor(mode: PredictMode, map: OldToNew, sectionStart: number): SectionPredictor {
  if (mode.kind === PREDICT_X86) {
    return predictorOf((neu, old, n, newBase, oldBase, visit) =>
      forEachPredictedField(neu, old, n, newBase, oldBase, map, (at, predicted) =>
        visit(at, predicted, undefined),
      ),
    );
  }
  const origins: Origins = { old: mode.oldOrigin, neu: sectionStart };
  return predictorOf((_neu, old, n, newBase, oldBase, visit) =>
    forEachPredictedInstruction(old, n, newBase, oldBase, origins, map, visit),
  );
}

/** The instruction that starts a section in `mode`: its mode and, for arm64, the old origin (format.ts). */
export function predictModeFields(mode: PredictMode): number[] {
  return mode.kind === PREDICT_ARM64 ? [mode.kind, mode.oldOrigin] : [mode.kind];
}
