/**
 * Opening the repository as the client does, for code that downloads without a Client (the first install): the
 * trusted root option read into bytes, and the resilient fetcher built from the client's options (defaults:
 * DEFAULT_FETCHER_OPTIONS in transport/).
 */
import { readFile } from 'node:fs/promises';
import { NotsotufError } from '../core/errors.js';
import { ResilientFetcher } from '../transport/index.js';
import type { ClientOptions, Mirror } from './options.js';

/** The trusted root option, checked: bytes, or a file path. */
export type TrustedRoot = Uint8Array | { readonly path: string };

/**
 * The trusted root option, checked (a Client checks it when it is made, before any download): bytes, or a file
 * path (a string or `{ path }`).
 *
 * @throws NotsotufError INVALID_ARGUMENT when the option is neither.
 */
export function trustedRootOf(root: unknown): TrustedRoot {
  if (root instanceof Uint8Array) return root;
  if (typeof root === 'string' && root !== '') return { path: root };
  const path = (root as { path?: unknown } | null)?.path;
  if (typeof path === 'string' && path !== '') return { path };
  throw new NotsotufError('INVALID_ARGUMENT', 'trustedRoot must be the root.json the app bundles.', {
    hint: "Pass its path (trustedRoot: 'root.json' or { path: 'root.json' }) or its bytes (a Uint8Array).",
  });
}

/**
 * The bytes of a trusted root option: bytes as they are, or the file a path names.
 *
 * @throws NotsotufError INVALID_ARGUMENT when the option is neither, or the file cannot be read.
 */
export async function readTrustedRoot(option: unknown): Promise<Uint8Array> {
  const root = trustedRootOf(option);
  if (root instanceof Uint8Array) return root;
  return readFile(root.path).catch((err: unknown) => {
    throw new NotsotufError('INVALID_ARGUMENT', `Cannot read the trusted root ${root.path}.`, {
      cause: err,
      path: root.path,
      hint: "Bundle the repository's root.json (repository/metadata/1.root.json) with the app and pass its path.",
    });
  });
}

/**
 * The mirrors of the options: `mirrors`, or the one `metadataUrl` and `targetsUrl` name.
 *
 * @throws NotsotufError INVALID_ARGUMENT when there is none.
 */
export function mirrorsOf(options: Pick<ClientOptions, 'mirrors' | 'metadataUrl' | 'targetsUrl'>): Mirror[] {
  const mirrors =
    options.mirrors ??
    (options.metadataUrl && options.targetsUrl
      ? [{ metadataUrl: options.metadataUrl, targetsUrl: options.targetsUrl }]
      : []);
  if (mirrors.length === 0) {
    throw new NotsotufError('INVALID_ARGUMENT', 'The client needs a repository location.', {
      hint: 'Pass metadataUrl and targetsUrl, or mirrors.',
    });
  }
  return [...mirrors];
}

/** The fetcher for `mirrors` with the options' transport settings, resuming downloads in `partialDir`. */
export function fetcherFor(
  mirrors: readonly Mirror[],
  options: Pick<ClientOptions, 'fetch' | 'headers'>,
  partialDir: string,
  signal: AbortSignal | undefined,
): ResilientFetcher {
  const f = options.fetch ?? {};
  const fetcher = new ResilientFetcher(mirrors, {
    ...(f.stallTimeoutMs === undefined ? {} : { stallTimeoutMs: f.stallTimeoutMs }),
    ...(f.minBytesPerSecond === undefined ? {} : { minBytesPerSecond: f.minBytesPerSecond }),
    ...(f.retries === undefined ? {} : { retries: f.retries }),
    ...(f.retryDelayMs === undefined ? {} : { retryDelayMs: f.retryDelayMs }),
    ...(options.headers ? { headers: options.headers } : {}),
    ...(f.userAgent === undefined ? {} : { userAgent: f.userAgent }),
    partialDir,
  });
  fetcher.signal = signal;
  return fetcher;
}
