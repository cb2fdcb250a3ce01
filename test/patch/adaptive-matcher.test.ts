import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { adaptiveMatcher, looksBinary, looksMinified } from '../../src/patch/notsotuf/adaptive-matcher.js';
import { hashAlignedMatcher } from '../../src/patch/notsotuf/aligned-matcher.js';
import { hashMatcher } from '../../src/patch/notsotuf/hash-matcher.js';
import type { Matcher } from '../../src/patch/notsotuf/matcher.js';
import { pseudoText } from './helpers.js';

/** `lines` lines of `width` bytes of text each. */
function text(lines: number, width: number, seed: number): Buffer {
  const body = Buffer.from(pseudoText(lines * width, seed));
  for (let i = 0; i < body.length; i++) if (body[i] === 10) body[i] = 0x20; // its own line breaks: spaces
  for (let i = width - 1; i < body.length; i += width) body[i] = 10;
  return body;
}

/** A copy of `bytes` with every 97th byte changed, and 300 bytes inserted in the middle. */
function edited(bytes: Buffer): Buffer {
  const out = Buffer.from(bytes);
  for (let i = 50; i < out.length; i += 97) if (out[i] !== 10) out[i] = 0x5f;
  const mid = out.length >> 1;
  return Buffer.concat([out.subarray(0, mid), text(3, 100, 9), out.subarray(mid)]);
}

const matches = (matcher: Matcher, old: Uint8Array, neu: Uint8Array) => [...matcher(old, neu)];

describe('choosing the matcher per file (decisions as data)', () => {
  test('minified text is told from source by its average line length (400 bytes or more)', () => {
    assert.equal(looksMinified(text(100, 40, 1)), false); // source: 40-byte lines
    // Bytes over line breaks + 1: 10 lines of 440 bytes are 4400 / 11 = 400.
    assert.equal(looksMinified(text(10, 439, 1)), false);
    assert.equal(looksMinified(text(10, 440, 1)), true);
    assert.equal(looksMinified(text(1, 60_000, 1)), true); // one line: a bundle
    assert.equal(looksMinified(new Uint8Array(0)), false);
  });

  test('source text gets the hash matcher; minified text and binaries get bsdiff-style alignment', () => {
    const source = text(2000, 40, 2);
    const minified = text(20, 4000, 3);
    assert.deepEqual(
      matches(adaptiveMatcher, source, edited(source)),
      matches(hashMatcher, source, edited(source)),
    );
    assert.deepEqual(
      matches(adaptiveMatcher, minified, edited(minified)),
      matches(hashAlignedMatcher, minified, edited(minified)),
    );
    // The two matchers differ on this input, so the checks above tell which one ran.
    assert.notDeepEqual(
      matches(hashMatcher, minified, edited(minified)),
      matches(hashAlignedMatcher, minified, edited(minified)),
    );
    const binary = Buffer.concat([Buffer.from([0]), minified]);
    assert.equal(looksBinary(binary), true);
    assert.deepEqual(
      matches(adaptiveMatcher, binary, edited(binary)),
      matches(hashAlignedMatcher, binary, edited(binary)),
    );
  });
});
