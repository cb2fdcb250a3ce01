/**
 * Small positional-I/O helpers for streaming patch application: nothing here reads a whole file, and every
 * fs failure becomes IO_ERROR naming the file.
 */
import { readSync, writeSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { patchIoError } from './patch-errors.js';

/**
 * Fills `buf[0..length)` from file offset `position` with synchronous positional reads, stopping early only at
 * the end of the file; returns the bytes read (the caller decides what a short read means).
 */
export function readFullySync(
  fd: number,
  path: string,
  buf: Uint8Array,
  length: number,
  position: number,
): number {
  let done = 0;
  while (done < length) {
    let n: number;
    try {
      n = readSync(fd, buf, done, length - done, position + done);
    } catch (err) {
      throw patchIoError('read', path, err);
    }
    if (n === 0) break;
    done += n;
  }
  return done;
}

/**
 * Writes all of `bytes` at the file's current position with synchronous writes. Output is written in pieces of
 * 64 KiB to 1 MiB into the page cache, which takes microseconds; through the thread pool each piece waited a
 * round trip, and apply sat idle for it (pe: about 20 ms of 0.5 s).
 */
export function writeFullySync(fd: number, path: string, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) {
    try {
      done += writeSync(fd, bytes, done, bytes.length - done);
    } catch (err) {
      throw patchIoError('write', path, err);
    }
  }
}

/**
 * Reads chunks of `[start, end)` of an open file with positional reads. One buffer is reused: each chunk is only
 * valid until the next is requested (the bzip2 decoder copies what it takes).
 */
export async function* fileRangeChunks(
  fh: FileHandle,
  path: string,
  start: number,
  end: number,
  chunkSize = 64 * 1024,
): AsyncGenerator<Uint8Array, void, undefined> {
  const buf = new Uint8Array(Math.min(chunkSize, Math.max(end - start, 0)));
  for (let pos = start; pos < end; ) {
    const n = Math.min(buf.length, end - pos);
    await readFullyAt(fh, path, buf, n, pos);
    pos += n;
    yield buf.subarray(0, n);
  }
}

/** Fills `buf[0..length)` from file offset `position`; a file shorter than expected is an IO_ERROR. */
export async function readFullyAt(
  fh: FileHandle,
  path: string,
  buf: Uint8Array,
  length: number,
  position: number,
): Promise<void> {
  let done = 0;
  while (done < length) {
    let bytesRead: number;
    try {
      ({ bytesRead } = await fh.read(buf, done, length - done, position + done));
    } catch (err) {
      throw patchIoError('read', path, err);
    }
    if (bytesRead === 0)
      throw patchIoError('read', path, new Error('file ended early (changed while reading?)'));
    done += bytesRead;
  }
}

/** Pulls bytes from an async chunk iterator in caller-chosen amounts. */
export class ChunkReader {
  private chunk: Uint8Array = new Uint8Array(0);
  private offset = 0;
  private done = false;

  constructor(private readonly source: AsyncIterator<Uint8Array>) {}

  /** Up to `max` bytes (a view, valid until the next call), or null once the source is exhausted. */
  async read(max: number): Promise<Uint8Array | null> {
    if (!(await this.fill())) return null;
    const n = Math.min(max, this.chunk.length - this.offset);
    const view = this.chunk.subarray(this.offset, this.offset + n);
    this.offset += n;
    return view;
  }

  /** Reads exactly `into.length` bytes unless the source ends first; returns how many were read. */
  async readInto(into: Uint8Array): Promise<number> {
    let n = 0;
    while (n < into.length) {
      const part = await this.read(into.length - n);
      if (part === null) break;
      into.set(part, n);
      n += part.length;
    }
    return n;
  }

  /** True when no bytes are left (pulling the source to its end, which runs its final checks). */
  async atEnd(): Promise<boolean> {
    return !(await this.fill());
  }

  /** Stops the source early (runs its cleanup). */
  async close(): Promise<void> {
    if (!this.done) {
      this.done = true;
      await this.source.return?.();
    }
  }

  private async fill(): Promise<boolean> {
    while (this.offset === this.chunk.length) {
      if (this.done) return false;
      const r = await this.source.next();
      if (r.done) {
        this.done = true;
        return false;
      }
      this.chunk = r.value;
      this.offset = 0;
    }
    return true;
  }
}

/** Buffered sequential writer over an open file (PieceWriter adds the notsotuf applier's way of filling it). */
export class OutputWriter {
  protected readonly buf: Uint8Array;
  protected used = 0;

  constructor(
    private readonly fh: FileHandle,
    private readonly path: string,
    bufferSize = 1 << 20,
    /** Sees every byte once, in order, before it is written (see ApplyPatchOptions.onOutput). */
    private readonly onOutput?: (bytes: Uint8Array) => void | Promise<void>,
  ) {
    this.buf = new Uint8Array(bufferSize);
  }

  /** Largest `reserve` request. */
  get capacity(): number {
    return this.buf.length;
  }

  /** A writable view of the next `n` (≤ capacity) output bytes; `commit(n)` once it is filled. */
  async reserve(n: number): Promise<Uint8Array> {
    if (this.used + n > this.buf.length) await this.flush();
    return this.buf.subarray(this.used, this.used + n);
  }

  commit(n: number): void {
    this.used += n;
  }

  /** Writes everything buffered. */
  async flush(): Promise<void> {
    if (this.used === 0) return;
    const piece = this.buf.subarray(0, this.used);
    if (this.onOutput) await this.onOutput(piece);
    writeFullySync(this.fh.fd, this.path, piece);
    this.used = 0;
  }
}
