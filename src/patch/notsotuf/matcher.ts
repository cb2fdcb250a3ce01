/** An approximate match: new[newStart…+length] is old[oldStart…+length] plus small differences. */
export interface Match {
  readonly newStart: number;
  readonly oldStart: number;
  readonly length: number;
}

/**
 * Finds approximate matches of `neu` in `old` (bsdiff-class: suffix-array matches extended over bytes that
 * mostly agree), in increasing `newStart` order, non-overlapping in the new file.
 */
export type Matcher = (old: Uint8Array, neu: Uint8Array) => Iterable<Match>;
