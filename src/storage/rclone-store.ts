import { execFile } from 'node:child_process';
import { NotsotufError } from '../core/errors.js';
import type { ObjectStore, PutOptions, RemoteObject } from './object-store.js';

/** The environment for rclone: ours, without AWS_CA_BUNDLE, which breaks rclone 1.60's S3 client when set. */
function rcloneEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env['AWS_CA_BUNDLE'];
  return env;
}

/** rclone's documented exit codes for "directory not found" and "file not found". */
const EXIT_DIR_NOT_FOUND = 3;
const EXIT_FILE_NOT_FOUND = 4;

interface RcloneResult {
  readonly code: number;
  readonly stdout: Buffer;
  readonly stderr: string;
}

/**
 * An rclone remote as the destination (any backend rclone supports: S3, B2, GCS, SFTP, WebDAV, …), through the
 * user's own `rclone` binary and configuration (RCLONE_CONFIG and the other RCLONE_* variables pass through).
 * Cache headers are sent with --header-upload, which object-storage backends keep. rclone retries failed
 * operations itself (--retries).
 */
export class RcloneStore implements ObjectStore {
  readonly description: string;
  private readonly base: string;

  constructor(
    remote: string,
    path: string,
    private readonly binary = 'rclone',
  ) {
    this.base = `${remote}:${path}`;
    this.description = `rclone:${this.base}`;
  }

  private target(key: string): string {
    return this.base.endsWith(':') || this.base.endsWith('/') ? `${this.base}${key}` : `${this.base}/${key}`;
  }

  private run(args: readonly string[], input?: Uint8Array): Promise<RcloneResult> {
    return new Promise((resolve, reject) => {
      const child = execFile(
        this.binary,
        [...args],
        { encoding: 'buffer', maxBuffer: 256 << 20, env: rcloneEnv() },
        (err, stdout, stderr) => {
          const code = err ? ((err as { code?: unknown }).code ?? 1) : 0;
          if (typeof code === 'string') {
            // ENOENT and the like: rclone itself could not be started.
            reject(
              new NotsotufError(
                'STORAGE_FAILED',
                `Could not run ${this.binary}: ${(err as Error).message}.`,
                {
                  cause: err,
                  hint: 'Install rclone (e.g. apt-get install rclone) and make sure it is on PATH.',
                },
              ),
            );
            return;
          }
          resolve({ code: code as number, stdout, stderr: stderr.toString('utf8') });
        },
      );
      if (input) child.stdin?.end(input);
    });
  }

  private failed(what: string, key: string, r: RcloneResult): NotsotufError {
    const detail = r.stderr.trim().split('\n').slice(-2).join(' ');
    return new NotsotufError(
      'STORAGE_FAILED',
      `rclone could not ${what} ${this.target(key)} (exit ${r.code}).`,
      {
        hint: `rclone said: ${detail || 'nothing'}. Check the remote with \`rclone lsd ${this.base}\`.`,
      },
    );
  }

  async list(prefix: string): Promise<RemoteObject[]> {
    const dir = prefix.replace(/\/$/, '');
    const r = await this.run(['lsjson', '-R', '--files-only', '--hash-type', 'MD5', this.target(dir)]);
    if (r.code === EXIT_DIR_NOT_FOUND) return [];
    if (r.code !== 0) throw this.failed('list', dir, r);
    const entries = JSON.parse(r.stdout.toString('utf8')) as {
      Path: string;
      Size: number;
      Hashes?: { md5?: string };
    }[];
    return entries.map((e) => ({
      key: dir ? `${dir}/${e.Path}` : e.Path,
      size: e.Size,
      ...(e.Hashes?.md5 ? { md5: e.Hashes.md5 } : {}),
    }));
  }

  async putFile(key: string, localPath: string, options: PutOptions): Promise<void> {
    const r = await this.run([
      'copyto',
      localPath,
      this.target(key),
      '--header-upload',
      `Content-Type: ${options.contentType}`,
      '--header-upload',
      `Cache-Control: ${options.cacheControl}`,
      // Compare content, not times: a re-run after an interruption skips what arrived whole.
      '--checksum',
    ]);
    if (r.code !== 0) throw this.failed('upload', key, r);
  }

  /** True when `key` is an object. (`rclone cat` of a missing key on a bucket remote prints nothing and succeeds.) */
  private async exists(key: string): Promise<boolean> {
    const r = await this.run(['lsjson', '--files-only', this.target(key)]);
    if (r.code === EXIT_DIR_NOT_FOUND || r.code === EXIT_FILE_NOT_FOUND) return false;
    if (r.code !== 0) throw this.failed('look up', key, r);
    const name = key.split('/').pop();
    return (JSON.parse(r.stdout.toString('utf8')) as { Path: string }[]).some((e) => e.Path === name);
  }

  async getBytes(key: string, maxBytes: number): Promise<Buffer | undefined> {
    if (!(await this.exists(key))) return undefined;
    const r = await this.run(['cat', '--count', String(maxBytes + 1), this.target(key)]);
    if (r.code === EXIT_FILE_NOT_FOUND || r.code === EXIT_DIR_NOT_FOUND) return undefined;
    if (r.code !== 0) throw this.failed('read', key, r);
    if (r.stdout.length > maxBytes) throw this.failed(`read (larger than ${maxBytes} bytes)`, key, r);
    return r.stdout;
  }

  async getFile(key: string, localPath: string): Promise<boolean> {
    if (!(await this.exists(key))) return false;
    const r = await this.run(['copyto', this.target(key), localPath]);
    if (r.code === EXIT_FILE_NOT_FOUND || r.code === EXIT_DIR_NOT_FOUND) return false;
    if (r.code !== 0) throw this.failed('download', key, r);
    return true;
  }

  async delete(key: string): Promise<void> {
    const r = await this.run(['deletefile', this.target(key)]);
    if (r.code !== 0 && r.code !== EXIT_FILE_NOT_FOUND && r.code !== EXIT_DIR_NOT_FOUND) {
      throw this.failed('delete', key, r);
    }
  }

  async createExclusive(
    key: string,
    bytes: Uint8Array,
    options: { contentType: string; cacheControl: string },
  ): Promise<boolean> {
    // No conditional write through rclone: check, then write; the lock protocol reads the owner back.
    if ((await this.getBytes(key, 1 << 16)) !== undefined) return false;
    const r = await this.run(
      ['rcat', this.target(key), '--header-upload', `Content-Type: ${options.contentType}`],
      bytes,
    );
    if (r.code !== 0) throw this.failed('write', key, r);
    return true;
  }
}
