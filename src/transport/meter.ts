import type { DownloadProgress } from './fetcher-options.js';
import type { Meter } from './sinks.js';

/** Thrown by the meter when a body goes past `maxLength`. */
export class TooLarge extends Error {}

/** What the meter needs of one download. */
export interface MeteredDownload {
  readonly url: string;
  readonly maxLength: number;
  readonly progress: ((p: DownloadProgress) => void) | undefined;
}

/**
 * Caps the body at `maxLength` before a byte past it is stored (an endless-data attack ends there), calls `touch`
 * for each chunk (the idle timer and the throughput floor) and reports progress. `start`: the bytes already held.
 */
export function lengthMeter(op: MeteredDownload, start: number, touch: (bytes: number) => void): Meter {
  return async function* (source) {
    let bytes = start;
    for await (const chunk of source) {
      touch(chunk.length);
      if (bytes + chunk.length > op.maxLength) throw new TooLarge();
      bytes += chunk.length;
      if (op.progress) {
        try {
          op.progress({ url: op.url, bytes, total: op.maxLength, delta: chunk.length });
        } catch {
          // A listener's bug must not pass for a network failure and trigger retries.
        }
      }
      yield chunk;
    }
  };
}
