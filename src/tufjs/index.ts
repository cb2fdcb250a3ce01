/**
 * The adapter to tuf-js: the only folder that imports the `tuf-js` package. The client's metadata refresh, the
 * shared fetcher (transport/) and the publisher's `verify` all reach tuf-js through it, so a tuf-js upgrade is
 * checked in one place. Imports nothing but core/.
 */
export { BaseFetcher, type Fetcher, type TargetFile, type Updater, type UpdaterOptions } from 'tuf-js';
export { classifyTufError, type TufStage } from './classify.js';
export { fileNotThereError, fromTufError } from './errors.js';
export { createUpdater, verifiedRoot, verifiedTargets } from './updater.js';
