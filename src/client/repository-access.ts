/**
 * Opening the repository as the client does, for code that downloads without a Client (the first install): the
 * trusted root option read into bytes, and the resilient fetcher built from the client's options (defaults:
 * DEFAULT_FETCHER_OPTIONS in transport/).
 */
import { readFile } from 'node:fs/promises';
import { NotsotufError } from '../core/errors.js';
import { ResilientFetcher } from '../transport/index.js';
import type { ClientOptions, Mirror } from './options.js';

/**
 * The bytes of a trusted root option: bytes as they are, or the file a path (a string or `{ path }`) names.
 *
 * @throws NotsotufError INVALID_ARGUMENT when the option is neither, or the file cannot be read.
 */
export async function readTrustedRoot(root: ClientOptions['trustedRoot']): Promise<Uint8Array> {
  if (root instanceof Uint8Array) return root;
  const path = typeof root === 'string' ? root : (root as { path?: unknown } | null)?.path;
  if (typeof path !== 'string' || path === '') {
    throw new NotsotufError('INVALID_ARGUMENT', 'trustedRoot must be the root.json the app trusts.', {
      hint: "Pass its path (trustedRoot: 'root.json' or { path: 'root.json' }) or its bytes (a Uint8Array).",
    });
  }
  return readFile(path).catch((err: unknown) => {
    throw new NotsotufError('INVALID_ARGUMENT', `Cannot read the trusted root ${path}.`, {
      cause: err,
      path,
      hint: "Pass the repository's root.json (repository/metadata/1.root.json, or the one the app bundles).",
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
    throw new NotsotufError('INVALID_ARGUMENT', 'A repository location is needed.', {
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
