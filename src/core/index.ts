/** Pure building blocks shared by the publisher and the client: errors, versions, target names, custom metadata. */
export * from './custom-metadata.js';
export * from './errors.js';
export * from './target-name.js';
export * from './version.js';
