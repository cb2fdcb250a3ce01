/**
 * What publishing needs from a storage service: list, upload, read back, delete, and an exclusive create for the
 * publish lock. Keys are `/`-separated paths relative to the destination (`metadata/timestamp.json`,
 * `targets/app-1.0.tar.gz`). Implementations: a directory, an S3-compatible bucket, an rclone remote.
 */
export interface RemoteObject {
  readonly key: string;
  readonly size: number;
  /** Content hashes the service reports cheaply (hex); a missing one is unknown, not different. */
  readonly md5?: string;
  readonly sha256?: string;
}

export interface PutOptions {
  readonly contentType: string;
  readonly cacheControl: string;
  /** The file's sha256 (hex), recorded where the service keeps metadata, so a later publish can compare. */
  readonly sha256: string;
  /** Bytes sent so far, where the service reports progress within a file (S3 multipart). */
  readonly onProgress?: (loaded: number) => void;
}

export interface ObjectStore {
  /** The destination as text, for messages. */
  readonly description: string;
  /** Every object under `prefix` (`metadata/`, `targets/`, or '' for all). */
  list(prefix: string): Promise<RemoteObject[]>;
  /** Uploads a local file; when it resolves the object is complete under `key` (never half-written). */
  putFile(key: string, localPath: string, options: PutOptions): Promise<void>;
  /** Small objects (metadata, the lock): the bytes, or undefined when there is no such object. */
  getBytes(key: string, maxBytes: number): Promise<Buffer | undefined>;
  /** Downloads an object to a local file; false when there is no such object. */
  getFile(key: string, localPath: string): Promise<boolean>;
  delete(key: string): Promise<void>;
  /**
   * Creates `key` with `bytes` only if it does not exist; false when it does. Atomic where the service supports
   * it (a directory: O_EXCL; S3: If-None-Match); elsewhere a check then a write, which the lock protocol reads back.
   */
  createExclusive(
    key: string,
    bytes: Uint8Array,
    options: Omit<PutOptions, 'sha256' | 'onProgress'>,
  ): Promise<boolean>;
  /** Releases connections (S3), if the store holds any. */
  close?(): void;
}
