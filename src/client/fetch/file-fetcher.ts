import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { BaseFetcher } from 'tuf-js';
import { DownloadHTTPError } from 'tuf-js/dist/error.js';

/**
 * A tuf-js fetcher for `file://` URLs: a repository on disk (offline updates, `notsotuf verify`).
 * A missing file is reported as tuf-js's own 404 error, the only thing that ends its root-rotation walk.
 */
export class FileFetcher extends BaseFetcher {
  override async fetch(url: string): Promise<ReadableStream<Uint8Array<ArrayBuffer>>> {
    const path = fileURLToPath(url);
    try {
      const info = await stat(path);
      if (!info.isFile()) throw new DownloadHTTPError(`${url} is not a file`, 404);
    } catch (err) {
      if (err instanceof DownloadHTTPError) throw err;
      throw new DownloadHTTPError(`${url} not found`, 404);
    }
    return Readable.toWeb(createReadStream(path)) as ReadableStream<Uint8Array<ArrayBuffer>>;
  }
}
