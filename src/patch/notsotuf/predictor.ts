import { applyArm64Predictions, diffAgainstArm64Predictions, type Origins } from './arm64.js';
import { PREDICT_ARM64, PREDICT_X86 } from './format.js';
import { applyPredictions, diffAgainstPredictions, type OldToNew } from './rel32.js';

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

/** The predictor of a section in `mode` whose runs map as `map` and which starts at `sectionStart` in the output. */
export function sectionPredictor(mode: PredictMode, map: OldToNew, sectionStart: number): SectionPredictor {
  if (mode.kind === PREDICT_X86) {
    return {
      diff: (d, neu, old, n, newBase, oldBase) =>
        diffAgainstPredictions(d, neu, old, n, newBase, oldBase, map),
      apply: (neu, old, n, newBase, oldBase) => applyPredictions(neu, old, n, newBase, oldBase, map),
    };
  }
  const origins: Origins = { old: mode.oldOrigin, neu: sectionStart };
  return {
    diff: (d, neu, old, n, newBase, oldBase) =>
      diffAgainstArm64Predictions(d, neu, old, n, newBase, oldBase, origins, map),
    apply: (neu, old, n, newBase, oldBase) =>
      applyArm64Predictions(neu, old, n, newBase, oldBase, origins, map),
  };
}

/** The instruction that starts a section in `mode`: its mode and, for arm64, the old origin (format.ts). */
export function predictModeFields(mode: PredictMode): number[] {
  return mode.kind === PREDICT_ARM64 ? [mode.kind, mode.oldOrigin] : [mode.kind];
}
