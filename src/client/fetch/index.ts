/** The fetcher the notsotuf client gives tuf-js: mirrors, retries, stall timeout, length caps, resumed downloads. */
export { type MirrorSource, normalizeMirror } from './mirrors.js';
export {
  DEFAULT_FETCHER_OPTIONS,
  type DownloadProgress,
  type FetcherOptions,
  ResilientFetcher,
} from './resilient-fetcher.js';
