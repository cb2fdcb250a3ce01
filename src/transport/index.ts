/**
 * The transport shared by the client and the publisher's `verify`: the fetcher tuf-js downloads through (mirrors,
 * retries, stall timeout, length caps, resumed downloads, `file://` and plain directories), with one table of
 * defaults. Imports core/ and the tuf-js adapter (tufjs/) only, never client/, repo/, cli/ or storage/.
 */
export {
  DEFAULT_FETCHER_OPTIONS,
  type DownloadProgress,
  type FetcherOptions,
} from './fetcher-options.js';
export { type MirrorSource, normalizeMirror } from './mirrors.js';
export { ResilientFetcher } from './resilient-fetcher.js';
