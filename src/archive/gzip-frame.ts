/**
 * A gzip wrapper with a fixed header. zlib's own gzip header records the OS it ran on (and Python's gzip adds the
 * file name and current time), so the same tar would compress to different bytes on Windows, macOS and Linux.
 * Here the deflate stream comes from zlib and the header and trailer are written by hand.
 */
import { crc32 } from 'node:zlib';

/** Compression level used for archives (zlib's best). */
export const GZIP_LEVEL = 9;

/**
 * The 10-byte gzip header (RFC 1952): magic, deflate, no flags (no FNAME/FCOMMENT/FEXTRA), MTIME 0, XFL 2
 * ("maximum compression", what zlib writes at level 9) and OS 255 ("unknown").
 */
export const GZIP_HEADER: Buffer = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x02, 0xff]);

/** Running CRC-32 and length of the uncompressed data, for the gzip trailer. */
export class GzipChecksum {
  private crc = 0;
  private length = 0;

  /** Adds the next piece of uncompressed data. */
  update(chunk: Uint8Array): void {
    this.crc = crc32(chunk, this.crc);
    this.length += chunk.length;
  }

  /** The 8-byte trailer: CRC-32 then ISIZE (length modulo 2^32), both little-endian. */
  trailer(): Buffer {
    const out = Buffer.alloc(8);
    out.writeUInt32LE(this.crc >>> 0, 0);
    out.writeUInt32LE(this.length % 2 ** 32, 4);
    return out;
  }
}
