/**
 * An S3-compatible bucket as the destination (AWS S3, R2, MinIO, Ceph, OpenStack Swift's S3 API, …), through
 * @aws-sdk/client-s3, which is imported only here and only when an `s3://` destination is opened: an app that
 * embeds the client never loads it. Endpoint, region and credentials come from the usual AWS environment
 * variables or profile (AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID, AWS_PROFILE, …) unless given.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import { NotsotufError } from '../core/errors.js';
import type { ObjectStore, PutOptions, RemoteObject } from './object-store.js';

type S3Module = typeof import('@aws-sdk/client-s3');
type StorageModule = typeof import('@aws-sdk/lib-storage');

export interface S3StoreOptions {
  /** e.g. `http://127.0.0.1:8080`; default AWS_ENDPOINT_URL(_S3) or AWS itself. */
  readonly endpoint?: string;
  /** Default AWS_REGION, else `us-east-1`. */
  readonly region?: string;
  /** Path-style URLs (`endpoint/bucket/key`), which most S3-compatible servers need; default: on with an endpoint. */
  readonly forcePathStyle?: boolean;
  readonly credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Multipart part size for large files (default 8 MiB). */
  readonly partSize?: number;
}

/** The object-metadata field that records a file's sha256 (so multipart uploads, whose ETag is no MD5, compare). */
const SHA256_META = 'sha256';
const MD5_ETAG = /^"?([0-9a-f]{32})"?$/;

function s3Error(what: string, where: string, cause: unknown): NotsotufError {
  const name = (cause as { name?: string }).name ?? 'Error';
  const status = (cause as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return new NotsotufError(
    'STORAGE_FAILED',
    `S3 could not ${what} ${where}: ${name}${status ? ` (HTTP ${status})` : ''}.`,
    {
      cause,
      hint: 'Check the endpoint, region, credentials (AWS_* variables or profile) and that the bucket exists.',
    },
  );
}

function notFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404;
}

export class S3Store implements ObjectStore {
  readonly description: string;

  private constructor(
    private readonly s3: S3Module,
    private readonly storage: StorageModule,
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly prefix: string,
    private readonly options: S3StoreOptions,
  ) {
    this.description = `s3://${bucket}${prefix ? `/${prefix}` : ''}`;
  }

  /** Loads the SDK and makes the client. @throws NotsotufError STORAGE_FAILED when the SDK is not installed. */
  static async open(bucket: string, prefix: string, options: S3StoreOptions = {}): Promise<S3Store> {
    let s3: S3Module;
    let storage: StorageModule;
    try {
      [s3, storage] = await Promise.all([import('@aws-sdk/client-s3'), import('@aws-sdk/lib-storage')]);
    } catch (err) {
      throw new NotsotufError('STORAGE_FAILED', 'The S3 client (@aws-sdk/client-s3) could not be loaded.', {
        cause: err,
        hint: 'Install notsotuf with its dependencies (npm install notsotuf), or publish through an rclone remote.',
      });
    }
    const endpoint =
      options.endpoint ?? process.env['AWS_ENDPOINT_URL_S3'] ?? process.env['AWS_ENDPOINT_URL'];
    const client = new s3.S3Client({
      region: options.region ?? process.env['AWS_REGION'] ?? process.env['AWS_DEFAULT_REGION'] ?? 'us-east-1',
      ...(endpoint ? { endpoint } : {}),
      forcePathStyle: options.forcePathStyle ?? endpoint !== undefined,
      ...(options.credentials ? { credentials: options.credentials } : {}),
      // Checksums only where the API requires them: several S3-compatible servers reject the newer defaults.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 5,
    });
    return new S3Store(s3, storage, client, bucket, prefix, options);
  }

  private key(key: string): string {
    return this.prefix ? `${this.prefix}/${key}` : key;
  }

  async list(prefix: string): Promise<RemoteObject[]> {
    const out: RemoteObject[] = [];
    const full = this.key(prefix);
    let token: string | undefined;
    try {
      do {
        const page = await this.client.send(
          new this.s3.ListObjectsV2Command({ Bucket: this.bucket, Prefix: full, ContinuationToken: token }),
        );
        for (const o of page.Contents ?? []) {
          if (!o.Key) continue;
          const key = this.prefix ? o.Key.slice(this.prefix.length + 1) : o.Key;
          const md5 = MD5_ETAG.exec(o.ETag ?? '')?.[1];
          // A multipart ETag is no MD5: the sha256 recorded at upload tells instead.
          const sha256 = md5 ? undefined : await this.recordedSha256(o.Key);
          out.push({ key, size: o.Size ?? 0, ...(md5 ? { md5 } : {}), ...(sha256 ? { sha256 } : {}) });
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    } catch (err) {
      throw err instanceof NotsotufError ? err : s3Error('list', `${this.description}/${prefix}`, err);
    }
    return out;
  }

  private async recordedSha256(fullKey: string): Promise<string | undefined> {
    const head = await this.client.send(new this.s3.HeadObjectCommand({ Bucket: this.bucket, Key: fullKey }));
    const value = head.Metadata?.[SHA256_META];
    return value && /^[0-9a-f]{64}$/.test(value) ? value : undefined;
  }

  async putFile(key: string, localPath: string, options: PutOptions): Promise<void> {
    const { size } = await stat(localPath);
    const upload = new this.storage.Upload({
      client: this.client,
      params: {
        Bucket: this.bucket,
        Key: this.key(key),
        Body: createReadStream(localPath),
        ContentLength: size,
        ContentType: options.contentType,
        ...(options.cacheControl ? { CacheControl: options.cacheControl } : {}),
        Metadata: { [SHA256_META]: options.sha256 },
      },
      partSize: this.options.partSize ?? 8 << 20,
      queueSize: 4,
      leavePartsOnError: false,
    });
    upload.on('httpUploadProgress', (p) => options.onProgress?.(p.loaded ?? 0));
    try {
      await upload.done();
    } catch (err) {
      throw s3Error('upload', `${this.description}/${key}`, err);
    }
  }

  async getBytes(key: string, maxBytes: number): Promise<Buffer | undefined> {
    try {
      const r = await this.client.send(
        new this.s3.GetObjectCommand({ Bucket: this.bucket, Key: this.key(key) }),
      );
      // The declared length first, so an oversized object is not downloaded; the bytes themselves after.
      if ((r.ContentLength ?? 0) > maxBytes) throw this.tooLarge(key, maxBytes);
      const bytes = Buffer.from((await r.Body?.transformToByteArray()) ?? []);
      if (bytes.length > maxBytes) throw this.tooLarge(key, maxBytes);
      return bytes;
    } catch (err) {
      if (notFound(err)) return undefined;
      throw err instanceof NotsotufError ? err : s3Error('read', `${this.description}/${key}`, err);
    }
  }

  private tooLarge(key: string, maxBytes: number): NotsotufError {
    return new NotsotufError(
      'STORAGE_FAILED',
      `${this.description}/${key} is larger than ${maxBytes} bytes.`,
      {
        hint: 'This is not a file notsotuf publishes: check that the destination holds only a notsotuf repository.',
      },
    );
  }

  async getFile(key: string, localPath: string): Promise<boolean> {
    try {
      const r = await this.client.send(
        new this.s3.GetObjectCommand({ Bucket: this.bucket, Key: this.key(key) }),
      );
      await pipeline(r.Body as NodeJS.ReadableStream, createWriteStream(localPath));
      return true;
    } catch (err) {
      if (notFound(err)) return false;
      throw s3Error('download', `${this.description}/${key}`, err);
    }
  }

  async delete(key: string): Promise<void> {
    try {
      await this.client.send(new this.s3.DeleteObjectCommand({ Bucket: this.bucket, Key: this.key(key) }));
    } catch (err) {
      if (!notFound(err)) throw s3Error('delete', `${this.description}/${key}`, err);
    }
  }

  async createExclusive(
    key: string,
    bytes: Uint8Array,
    options: { contentType: string; cacheControl: string },
  ): Promise<boolean> {
    const params = {
      Bucket: this.bucket,
      Key: this.key(key),
      Body: bytes,
      ContentType: options.contentType,
      ...(options.cacheControl ? { CacheControl: options.cacheControl } : {}),
    };
    try {
      // A conditional write (If-None-Match: *) where the service supports it: atomic.
      await this.client.send(new this.s3.PutObjectCommand({ ...params, IfNoneMatch: '*' }));
      return true;
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 412 || status === 409) return false;
      if (status !== 501 && status !== 400) throw s3Error('create', `${this.description}/${key}`, err);
    }
    // No conditional writes here: check, then write; the lock protocol reads the owner back.
    if ((await this.getBytes(key, 1 << 16)) !== undefined) return false;
    try {
      await this.client.send(new this.s3.PutObjectCommand(params));
      return true;
    } catch (err) {
      throw s3Error('create', `${this.description}/${key}`, err);
    }
  }

  /** Closes the client's connections. */
  close(): void {
    this.client.destroy();
  }
}
