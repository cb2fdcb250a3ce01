/**
 * The trusted metadata one check and the download after it work with: refreshed from the repository through a
 * fetcher over the mirrors, starting from the trusted root the app bundles.
 */
import { readFile } from 'node:fs/promises';
import { NotsotufError } from '../core/errors.js';
import type { ResilientFetcher } from '../transport/index.js';
import { type ClientContext, timed } from './client-context.js';
import type { Mirror } from './options.js';
import { fetcherFor } from './repository-access.js';
import { refreshTrustedMetadata, type TrustedMetadata } from './trusted-metadata.js';

/** How long the metadata of a check may be used for the download that follows it. */
const SESSION_REUSE_MS = 5 * 60 * 1000;

/** The trusted root option, checked: bytes, or a file path. */
export type TrustedRoot = Uint8Array | { readonly path: string };

/** The trusted root option, checked: bytes, or a file path (a string or `{ path }`). */
export function trustedRootOf(root: unknown): TrustedRoot {
  if (root instanceof Uint8Array) return root;
  if (typeof root === 'string' && root !== '') return { path: root };
  const path = (root as { path?: unknown } | null)?.path;
  if (typeof path === 'string' && path !== '') return { path };
  throw new NotsotufError('INVALID_ARGUMENT', 'trustedRoot must be the root.json the app bundles.', {
    hint: "Pass its path (trustedRoot: 'root.json' or { path: 'root.json' }) or its bytes (a Uint8Array).",
  });
}

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
    const root = this.#trustedRoot;
    const trustedRoot =
      root instanceof Uint8Array
        ? root
        : await readFile(root.path).catch((err) => {
            throw new NotsotufError('INVALID_ARGUMENT', `Cannot read the trusted root ${root.path}.`, {
              cause: err,
              path: root.path,
              hint: 'Bundle the repository’s root.json with the app and pass its path.',
            });
          });
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
