import { NotsotufError } from '../core/errors.js';
import { type Destination, parseDestination } from './destination.js';
import { DirStore } from './dir-store.js';
import type { ObjectStore } from './object-store.js';
import { RcloneStore } from './rclone-store.js';

export interface OpenStoreOptions {
  /** The rclone binary for `rclone:` destinations (default `rclone` on PATH). */
  readonly rcloneBinary?: string;
}

/** The store for a destination (text as given to --to/--from, or parsed). */
export function openStore(destination: string | Destination, options: OpenStoreOptions = {}): ObjectStore {
  const d = typeof destination === 'string' ? parseDestination(destination) : destination;
  if (d.kind === 'dir') return new DirStore(d.path);
  if (d.kind === 'rclone') return new RcloneStore(d.remote, d.path, options.rcloneBinary);
  throw new NotsotufError('DESTINATION_INVALID', `s3:// destinations are not supported by this build yet.`, {
    hint: 'Publish through an rclone S3 remote meanwhile: rclone:<remote>:<bucket>/<prefix>.',
  });
}
