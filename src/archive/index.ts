/**
 * Reproducible bundle archives: scanning a bundle directory safely and writing it as a deterministic `.tar.gz`
 * that tufup (Python's tarfile) and GNU tar read back; and, on the client, reading and safely extracting one.
 */
export { DEFAULT_ARCHIVE_MTIME, resolveArchiveMtime } from './archive-mtime.js';
export { type BundleEntry, type ScanOptions, scanBundle } from './bundle-scan.js';
export { type ArchiveResult, type CreateArchiveOptions, createArchive } from './create-archive.js';
export {
  checkSymlinkTarget,
  type EntryPathResult,
  MAX_ENTRY_DEPTH,
  MAX_ENTRY_PATH_LENGTH,
  normalizeEntryPath,
  parentPaths,
  ROOT_PATH,
} from './entry-path.js';
export {
  type ExtractProgress,
  type ExtractResult,
  type ExtractTarOptions,
  extractTar,
} from './extract-tar.js';
export { gunzipToFile } from './gunzip-file.js';
export { GZIP_HEADER, GZIP_LEVEL } from './gzip-frame.js';
export { checkLinkTargets, linkProblem } from './link-safety.js';
export {
  BLOCK_SIZE,
  encodeMemberHeader,
  encodePaxRecords,
  encodeUstarHeader,
  endOfArchive,
  MAX_OCTAL_11,
  RECORD_SIZE,
  splitUstarName,
  type TarMember,
  tarNameFor,
  type UstarFields,
} from './tar-format.js';
export {
  DEFAULT_DATA_CHUNK,
  MAX_EXTENSION_SIZE,
  type ReadTarOptions,
  readTarEntries,
  readTarEntryData,
  type TarEntry,
} from './tar-reader.js';
export { type ArchiveProgress, type TarChunksOptions, tarChunks } from './tar-stream.js';
