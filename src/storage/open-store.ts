import { type Destination, parseDestination } from './destination.js';
import { DirStore } from './dir-store.js';
import type { ObjectStore } from './object-store.js';
import { RcloneStore } from './rclone-store.js';
import type { S3StoreOptions } from './s3-store.js';

export interface OpenStoreOptions {
  /** The rclone binary for `rclone:` destinations (default `rclone` on PATH). */
  readonly rcloneBinary?: string;
  /** For `s3://` destinations (default: the AWS environment variables or profile). */
  readonly s3?: S3StoreOptions;
}

/**
 * The store for a destination (text as given to --to/--from, or parsed). The S3 SDK is imported only for `s3://`.
 * @throws NotsotufError DESTINATION_INVALID; STORAGE_FAILED when the S3 SDK cannot be loaded.
 */
export async function openStore(
  destination: string | Destination,
  options: OpenStoreOptions = {},
): Promise<ObjectStore> {
  const d = typeof destination === 'string' ? parseDestination(destination) : destination;
  if (d.kind === 'dir') return new DirStore(d.path);
  if (d.kind === 'rclone') return new RcloneStore(d.remote, d.path, options.rcloneBinary);
  const { S3Store } = await import('./s3-store.js');
  return S3Store.open(d.bucket, d.prefix, options.s3);
}
