/**
 * The expected time of each way to a release (issue 20): a patch chain saves download time but costs CPU time to
 * apply, so on a fast link a large patch can be slower than the full archive. Pure: the download rate and the cost
 * table come in as data; the caller measures and persists the rate (see `download-rate.ts`).
 */
import type { ReleaseFile } from '../../core/releases.js';

/** Seconds of CPU work per byte of tar, and the rate to assume when this client has measured none. */
export interface RouteCostTable {
  /**
   * Applying one patch, per byte of the tar it produces, by codec: decompressing its streams, reading the base,
   * writing the result and hashing it (the result is then kept as it is: nothing is stored afterwards).
   */
  readonly applyPerTarByte: Readonly<Record<string, number>>;
  /** For a codec missing from `applyPerTarByte` (the slowest known one is a safe guess). */
  readonly applyUnknownCodec: number;
  /** Full route only: gunzipping and hashing the downloaded archive. */
  readonly unpackPerTarByte: number;
  /** Bytes per second assumed before this client has timed a download of its own. */
  readonly defaultRate: number;
  /**
   * The full archive replaces tufup's choice of patches only when it is expected to be at least this many seconds
   * faster: small updates behave as in tufup, and an estimate's error does not flip a choice worth milliseconds.
   */
  readonly minSecondsSaved: number;
}

/**
 * Measured with `npm run bench` (bench/e2e.mjs, results in bench/results/latest.md and
 * bench/results/patch-route-speed.md; the `big` pair: 183 MB tar, node + typescript + swc + esbuild) on a 2-core
 * AMD EPYC, loaded by other jobs (load average about 2), Node 20: the phase times of the client's `timing` events
 * divided by the tar size. bsdiff4 went from 80e-9 to 55e-9 when base reads stopped waiting on the thread pool and
 * the bzip2 decoder got its lookup tables, and to 27–32e-9 when the rebuilt tar stopped being gzipped into the cache
 * in the same pass (it is kept as a tar); the notsotuf codec from 40e-9 to 13–14e-9 (the same, and an apply loop
 * that allocates nothing per instruction), then 21e-9 with format 4's x86 prediction (apply 3.65 s and hashing
 * the kept tar 0.20 s for the 183 MB tar, whose patch it made 9 % smaller). Unpacking measured 8–14e-9. The default rate is a modest broadband line
 * (20 Mbit/s).
 */
export const DEFAULT_ROUTE_COSTS: RouteCostTable = {
  applyPerTarByte: { bsdiff4: 30e-9, notsotuf: 21e-9 },
  applyUnknownCodec: 30e-9,
  unpackPerTarByte: 12e-9,
  defaultRate: 2.5e6,
  minSecondsSaved: 1,
};

/** What each route is expected to cost, in seconds, and the download rate the estimate used. */
export interface RouteEstimate {
  readonly patchSeconds: number;
  readonly fullSeconds: number;
  /** Bytes per second. */
  readonly rate: number;
}

export interface RouteCostInput {
  /** The patch chain, in application order; each patch signs the size of the tar it produces. */
  readonly patches: readonly ReleaseFile[];
  readonly archive: ReleaseFile;
  /** Measured download rate in bytes per second; the table's default when absent or not a positive number. */
  readonly rate?: number;
  readonly costs?: RouteCostTable;
}

/**
 * Estimated time of the patch route (download the patches, apply each) against the full route
 * (download the archive, unpack it). Extraction and install are the same for both and left out.
 */
export function estimateRoutes(input: RouteCostInput): RouteEstimate {
  const costs = input.costs ?? DEFAULT_ROUTE_COSTS;
  const rate =
    input.rate !== undefined && Number.isFinite(input.rate) && input.rate > 0
      ? input.rate
      : costs.defaultRate;
  let patchSeconds = 0;
  let tarSize = 0;
  for (const patch of input.patches) {
    // planUpdate only chains patches that sign their result's size.
    tarSize = patch.tarSize ?? 0;
    const perByte = costs.applyPerTarByte[patch.patchCodec ?? 'bsdiff4'] ?? costs.applyUnknownCodec;
    patchSeconds += patch.length / rate + tarSize * perByte;
  }
  // The last patch's result is the target's tar; the archive may sign it too.
  const finalTar = input.archive.tarSize ?? tarSize;
  const fullSeconds = input.archive.length / rate + finalTar * costs.unpackPerTarByte;
  return { patchSeconds, fullSeconds, rate };
}
