/**
 * The bzip2 compressor (publisher side): run-length stage 1, block framing and stream CRCs. The block transform
 * itself is in encode-block.ts.
 */
import { BitWriter } from './bit-writer.js';
import { CRC_INIT, combineStreamCrc, crcFinal, crcUpdateRun } from './crc32.js';
import { encodeBlock } from './encode-block.js';
import { BLOCK_UNIT, ENCODER_BLOCK_SLACK, EOS_MAGIC_HI, EOS_MAGIC_LO, STREAM_MAGIC } from './format.js';

export interface Bzip2EncodeOptions {
  /** Block size in units of 100 000 bytes, 1..9 (bzip2's -1..-9). Default 9, as Python's bz2.compress. */
  readonly blockSize100k?: number;
}

/**
 * Incremental compressor: feed input with `push`, end with `finish`; both return finished output bytes. The
 * constructor throws RangeError for a block size outside 1..9.
 */
export class Bzip2Encoder {
  private readonly level: number;
  private readonly blockMax: number;
  private readonly block: Uint8Array;
  private readonly out = new BitWriter();
  private nblock = 0;
  /** The run being collected (stage 1 codes runs of 4..255 equal bytes as 4 bytes and a count), -1 if none. */
  private runByte = -1;
  private runLength = 0;
  private crc = CRC_INIT;
  private streamCrc = 0;
  private started = false;
  private finished = false;

  constructor(options: Bzip2EncodeOptions = {}) {
    const level = options.blockSize100k ?? 9;
    if (!Number.isInteger(level) || level < 1 || level > 9) {
      throw new RangeError('bzip2 blockSize100k must be an integer from 1 to 9');
    }
    this.level = level;
    this.blockMax = level * BLOCK_UNIT - ENCODER_BLOCK_SLACK;
    this.block = new Uint8Array(level * BLOCK_UNIT);
  }

  /** Adds input; returns the compressed bytes of any blocks this completed (often none). */
  push(data: Uint8Array): Uint8Array[] {
    if (this.finished) throw new Error('Bzip2Encoder: push after finish');
    const chunks: Uint8Array[] = [];
    let runByte = this.runByte;
    let runLength = this.runLength;
    for (let i = 0; i < data.length; i++) {
      const b = data[i]!;
      if (b === runByte && runLength < 255) {
        runLength++;
        continue;
      }
      // The pending run ends here. If the block filled up when the previous run was added, it is compressed
      // first, so this run goes to the next block (as in bzip2: a run is never split across blocks).
      if (runByte >= 0) {
        if (this.nblock >= this.blockMax) this.flushBlock(chunks);
        this.addRun(runByte, runLength);
      }
      runByte = b;
      runLength = 1;
    }
    this.runByte = runByte;
    this.runLength = runLength;
    return chunks;
  }

  /** Ends the stream; returns the remaining compressed bytes. */
  finish(): Uint8Array[] {
    if (this.finished) throw new Error('Bzip2Encoder: finish called twice');
    this.finished = true;
    const chunks: Uint8Array[] = [];
    // The last run always joins the current block; the 19 bytes of slack leave room for it.
    if (this.runByte >= 0) this.addRun(this.runByte, this.runLength);
    if (this.nblock > 0) this.flushBlock(chunks);
    this.startStream();
    this.out.bits(24, EOS_MAGIC_HI);
    this.out.bits(24, EOS_MAGIC_LO);
    this.out.uint32(this.streamCrc);
    this.out.alignToByte();
    chunks.push(this.out.take());
    return chunks;
  }

  private addRun(byte: number, length: number): void {
    this.crc = crcUpdateRun(this.crc, byte, length);
    const block = this.block;
    if (length < 4) {
      for (let k = 0; k < length; k++) block[this.nblock++] = byte;
    } else {
      block.fill(byte, this.nblock, this.nblock + 4);
      block[this.nblock + 4] = length - 4;
      this.nblock += 5;
    }
  }

  private flushBlock(chunks: Uint8Array[]): void {
    this.startStream();
    const blockCrc = crcFinal(this.crc);
    this.streamCrc = combineStreamCrc(this.streamCrc, blockCrc);
    encodeBlock(this.out, this.block.subarray(0, this.nblock), blockCrc);
    chunks.push(this.out.take());
    this.nblock = 0;
    this.crc = CRC_INIT;
  }

  private startStream(): void {
    if (this.started) return;
    this.started = true;
    for (const b of STREAM_MAGIC) this.out.bits(8, b);
    this.out.bits(8, 0x30 + this.level);
  }
}

/**
 * Compresses a sequence of input chunks lazily: each compressed piece is yielded as soon as its block is done,
 * so a caller can write it out (and check for aborts) between blocks.
 */
export function* bzip2CompressChunks(
  source: Iterable<Uint8Array>,
  options: Bzip2EncodeOptions = {},
): Generator<Uint8Array, void, undefined> {
  const encoder = new Bzip2Encoder(options);
  for (const chunk of source) {
    // Feed big inputs a block at a time so the caller gets each compressed block without waiting for the rest.
    for (let off = 0; off < chunk.length; off += BLOCK_UNIT) {
      yield* encoder.push(chunk.subarray(off, off + BLOCK_UNIT));
    }
  }
  yield* encoder.finish();
}

/** Compresses `data` into one complete bzip2 stream. Throws RangeError for a block size outside 1..9. */
export function bzip2Compress(data: Uint8Array, options: Bzip2EncodeOptions = {}): Uint8Array {
  return concatBytes([...bzip2CompressChunks([data], options)]);
}

function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
