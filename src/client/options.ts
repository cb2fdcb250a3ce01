/** Options of the Client, with every default in one place. */
import type { InstallStrategy } from '../install/index.js';
import type { Channel } from './plan/select-release.js';

/** One place the repository is served from: URLs (`https://`, `file://`) or local directory paths. */
export interface Mirror {
  readonly metadataUrl: string;
  readonly targetsUrl: string;
}

export interface ClientOptions {
  /** The app's name as in target names (`<appName>-<version>.tar.gz`). */
  readonly appName: string;
  /** The version running now (PEP 440 or semver). */
  readonly currentVersion: string;
  /** Where the app is installed (what an update replaces). */
  readonly installDir: string;
  /** The client's own directory: metadata cache, archives, partial downloads, scratch space. */
  readonly cacheDir: string;
  /** Base URL (or directory) of the metadata; give this and `targetsUrl`, or `mirrors`. */
  readonly metadataUrl?: string;
  readonly targetsUrl?: string;
  /** Several copies of the repository, tried in order. */
  readonly mirrors?: readonly Mirror[];
  /** The root.json the app bundles (its bytes, or the path of a file to read them from): the trust anchor. */
  readonly trustedRoot: Uint8Array | string | { readonly path: string };
  /** Default `final`. */
  readonly channel?: Channel;
  /** Jump over releases marked required (tufup's `ignore_required`). Default false. */
  readonly ignoreRequired?: boolean;
  /**
   * This install's id for staged rollouts, when the app has a stable one of its own (e.g. a device id; it is only
   * hashed, on this machine). Default: a random id kept in `cacheDir/install-id`.
   */
  readonly installId?: string;
  /** The clock for rollout waves (tests). Default `Date.now`. */
  readonly now?: () => number;
  /** Default true; false always downloads full archives (tufup's `patch=False`). */
  readonly allowPatches?: boolean;
  /**
   * The download rate (bytes per second) the plan weighs patch apply time against. Default: the rate this client
   * measured on its previous large downloads (kept in `cacheDir/download-rate.json`), else 2.5 MB/s.
   */
  readonly downloadRate?: number;
  /** Extra HTTP headers on every request (authorization). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Transport settings; their defaults are DEFAULT_FETCHER_OPTIONS, shared with the publisher's `verify`. */
  readonly fetch?: {
    /** Abort a request that receives no byte for this long. Default 30 s. */
    readonly stallTimeoutMs?: number;
    /** Slowest transfer accepted, averaged per stall window (slow-retrieval defence). Default 1024. */
    readonly minBytesPerSecond?: number;
    /** Extra attempts per mirror for transient failures. Default 3. */
    readonly retries?: number;
    /** First backoff delay, doubled each attempt. Default 500 ms. */
    readonly retryDelayMs?: number;
    /** Default `notsotuf/<version>`. */
    readonly userAgent?: string;
  };
  /**
   * How the new release gets into `installDir`. Default: the layout decides — the atomic versioned install when
   * `installDir` is a versioned install root (it has install.json), else tufup's in-place copy.
   */
  readonly installStrategy?: InstallStrategy;
  /**
   * Largest uncompressed archive accepted when the metadata does not sign its size (tufup repositories).
   * Default 16 GiB.
   */
  readonly maxUnsignedTarSize?: number;
}

export const DEFAULT_CLIENT_OPTIONS = {
  channel: 'final' as Channel,
  ignoreRequired: false,
  allowPatches: true,
  maxUnsignedTarSize: 16 * 1024 ** 3,
} as const;
