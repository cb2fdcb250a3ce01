/**
 * The trusted metadata one check and the download after it work with: refreshed from the repository through a
 * fetcher over the mirrors, starting from the trusted root the app bundles.
 */
import type { ResilientFetcher } from '../transport/index.js';
import { type ClientContext, timed } from './client-context.js';
import type { Mirror } from './options.js';
import { fetcherFor, readTrustedRoot, type TrustedRoot } from './repository-access.js';
import { refreshTrustedMetadata, type TrustedMetadata } from './trusted-metadata.js';

/** How long the metadata of a check may be used for the download that follows it. */
const SESSION_REUSE_MS = 5 * 60 * 1000;

export interface OpenSession {
  readonly meta: TrustedMetadata;
  readonly fetcher: ResilientFetcher;
}

export class MetadataSession {
  readonly #ctx: ClientContext;
  readonly #mirrors: readonly Mirror[];
  readonly #trustedRoot: TrustedRoot;
  #open: (OpenSession & { at: number }) | undefined;

  constructor(ctx: ClientContext, mirrors: readonly Mirror[], trustedRoot: TrustedRoot) {
    this.#ctx = ctx;
    this.#mirrors = mirrors;
    this.#trustedRoot = trustedRoot;
  }

  /**
   * The trusted metadata of the last refresh. A download right after its check reuses it (no second round of
   * requests); after SESSION_REUSE_MS the metadata is refreshed again, since tuf-js checks expiry against the time
   * of the refresh.
   */
  async open(signal: AbortSignal | undefined, reuse: boolean): Promise<OpenSession> {
    const open = this.#open;
    if (reuse && open && Date.now() - open.at < SESSION_REUSE_MS) {
      open.fetcher.signal = signal;
      return open;
    }
    await this.close();
    const { options, cache } = this.#ctx;
    const fetcher = fetcherFor(this.#mirrors, options, cache.partialDir, signal);
    const meta = await this.#refresh(fetcher);
    this.#open = { meta, fetcher, at: Date.now() };
    return this.#open;
  }

  async close(): Promise<void> {
    const open = this.#open;
    this.#open = undefined;
    await open?.meta.close();
  }

  async #refresh(fetcher: ResilientFetcher): Promise<TrustedMetadata> {
    const { cache, emit } = this.#ctx;
    const trustedRoot = await readTrustedRoot(this.#trustedRoot);
    return timed(emit, 'refresh', () =>
      refreshTrustedMetadata({
        metadataDir: cache.metadataDir,
        workDir: cache.workDir,
        trustedRoot,
        fetcher,
        onWarning: (message) => emit('warning', { message }),
      }),
    );
  }
}
