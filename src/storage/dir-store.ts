import { copyFile, mkdir, open, readdir, readFile, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { NotsotufError } from '../core/errors.js';
import { copyFileAtomic } from '../util/durable-fs.js';
import { hashFile } from '../util/hash-file.js';
import type { ObjectStore, PutOptions, RemoteObject } from './object-store.js';

function storageError(what: string, path: string, cause: unknown): NotsotufError {
  return new NotsotufError('STORAGE_FAILED', `Could not ${what} ${path}.`, {
    path,
    cause,
    hint: 'Check that the destination directory exists, is writable and the disk is not full.',
  });
}

/**
 * A directory as the destination (a web server's document root, a mounted share). Uploads are copied beside
 * their name and renamed into place, so a web server never serves half a file. Cache headers cannot be stored
 * with files: configure the web server as docs/publish.md shows.
 */
export class DirStore implements ObjectStore {
  readonly description: string;

  constructor(private readonly root: string) {
    this.description = `dir:${root}`;
  }

  private path(key: string): string {
    return join(this.root, ...key.split('/'));
  }

  async list(prefix: string): Promise<RemoteObject[]> {
    const out: RemoteObject[] = [];
    const walk = async (dir: string, keyPrefix: string): Promise<void> => {
      let entries: import('node:fs').Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw storageError('list', dir, err);
      }
      for (const e of entries) {
        const key = `${keyPrefix}${e.name}`;
        if (e.isDirectory()) await walk(join(dir, e.name), `${key}/`);
        // Temp files of an interrupted upload are not objects.
        else if (e.isFile() && !(e.name.startsWith('.') && e.name.endsWith('.tmp'))) {
          const path = join(dir, e.name);
          const { size, sha256 } = await hashFile(path);
          out.push({ key, size, sha256 });
        }
      }
    };
    const start = prefix.replace(/\/$/, '');
    await walk(start ? this.path(start) : this.root, start ? `${start}/` : '');
    return out;
  }

  async putFile(key: string, localPath: string, _options: PutOptions): Promise<void> {
    const target = this.path(key);
    try {
      await mkdir(dirname(target), { recursive: true });
      await copyFileAtomic(localPath, target);
    } catch (err) {
      throw storageError('write', target, err);
    }
  }

  async getBytes(key: string, maxBytes: number): Promise<Buffer | undefined> {
    const path = this.path(key);
    try {
      const { size } = await stat(path);
      if (size > maxBytes) throw storageError('read (too large)', path, undefined);
      return await readFile(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err instanceof NotsotufError ? err : storageError('read', path, err);
    }
  }

  async getFile(key: string, localPath: string): Promise<boolean> {
    try {
      await copyFile(this.path(key), localPath);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw storageError('read', this.path(key), err);
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.path(key), { force: true }).catch((err: unknown) => {
      throw storageError('delete', this.path(key), err);
    });
  }

  async createExclusive(key: string, bytes: Uint8Array): Promise<boolean> {
    const path = this.path(key);
    try {
      await mkdir(dirname(path), { recursive: true });
      const fh = await open(path, 'wx');
      try {
        await fh.writeFile(bytes);
        await fh.sync();
      } finally {
        await fh.close();
      }
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw storageError('create', path, err);
    }
  }
}
