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
  visit: (at: number, first: number, second?: number) => void,
) => void;

const EMPTY: Uint8Array = new Uint8Array(0);

/** Byte `k` (little-endian) of the predicted bytes: 0–3 of `first`, 4–7 of `second`. */
function predictedByte(first: number, second: number | undefined, k: number): number {
  return ((k < 4 ? first : second!) >>> (8 * (k & 3))) & 0xff;
}

/**
 * Both sides of a scan: the predicted bytes are new = prediction + diff, where other bytes are new = old + diff.
 * The visitors are made once per section and read the chunk from variables set per call: a closure per chunk
 * (an ADD piece) was 80 MB of garbage on turbo's apply.
 */
function predictorOf(scan: Scan): SectionPredictor {
  let d = EMPTY;
  let neuBytes = EMPTY;
  let oldBytes = EMPTY;
  const diffVisit = (at: number, first: number, second?: number) => {
    const length = second === undefined ? 4 : 8;
    for (let k = 0; k < length; k++) d[at + k] = (neuBytes[at + k]! - predictedByte(first, second, k)) & 0xff;
  };
  const applyVisit = (at: number, first: number, second?: number) => {
    const length = second === undefined ? 4 : 8;
    for (let k = 0; k < length; k++)
      neuBytes[at + k] = (neuBytes[at + k]! - oldBytes[at + k]! + predictedByte(first, second, k)) & 0xff;
  };
  return {
    diff(diffBytes, neu, old, n, newBase, oldBase) {
      d = diffBytes;
      neuBytes = neu;
      scan(neu, old, n, newBase, oldBase, diffVisit);
      d = neuBytes = EMPTY;
    },
    apply(neu, old, n, newBase, oldBase) {
      neuBytes = neu;
      oldBytes = old;
      scan(neu, old, n, newBase, oldBase, applyVisit);
      neuBytes = oldBytes = EMPTY;
    },
  };
}

/** The predictor of a section in `mode` whose runs map as `map` and which starts at `sectionStart` in the output. */
export function sectionPredictor(mode: PredictMode, map: OldToNew, sectionStart: number): SectionPredictor {
  if (mode.kind === PREDICT_X86) {
    return predictorOf((neu, old, n, newBase, oldBase, visit) =>
      forEachPredictedField(neu, old, n, newBase, oldBase, map, visit),
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
