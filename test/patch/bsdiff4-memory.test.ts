/**
 * Applying a patch streams: memory stays bounded (target < 64 MB extra) whatever the file sizes. The apply runs in
 * a fresh child process so its peak rss is measured without this process's garbage.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { encodeHeader, writeInt64 } from '../../src/patch/bsdiff4-header.js';
import { Bzip2Encoder, bzip2Compress } from '../../src/patch/index.js';
import { concat, pseudoRandom, tempDir } from './helpers.js';

const MB = 1024 * 1024;

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

describe('bsdiff4 apply memory', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  before(async () => ({ dir, cleanup } = await tempDir()));
  after(() => cleanup());

  test('a 65 MB result is built with far less than 64 MB of extra memory', async (t) => {
    const size = 64 * MB;
    const oldPath = join(dir, 'old');
    const patchPath = join(dir, 'patch');
    const outPath = join(dir, 'out');
    // new = old with every 4096th byte incremented, plus 1 MB of fresh data at the end, generated a megabyte at
    // a time to keep this process small.
    const hash = createHash('sha256');
    const diffEncoder = new Bzip2Encoder();
    const diffParts: Uint8Array[] = [];
    const oldFile = await open(oldPath, 'w');
    for (let i = 0; i < size / MB; i++) {
      const chunk = pseudoRandom(MB, 1000 + i);
      await oldFile.write(chunk);
      const diff = new Uint8Array(MB);
      for (let k = 0; k < MB; k += 4096) {
        diff[k] = 1;
        chunk[k]! += 1;
      }
      diffParts.push(...diffEncoder.push(diff));
      hash.update(chunk);
    }
    await oldFile.close();
    diffParts.push(...diffEncoder.finish());
    const extra = pseudoRandom(MB, 82);
    hash.update(extra);
    const expectedHash = hash.digest('hex');
    const control = new Uint8Array(24);
    writeInt64(control, 0, size);
    writeInt64(control, 8, MB);
    const ctrlZ = bzip2Compress(control);
    const diffZ = concat(...diffParts);
    const header = encodeHeader({
      controlLength: ctrlZ.length,
      diffLength: diffZ.length,
      newSize: size + MB,
    });
    await writeFile(patchPath, concat(header, ctrlZ, diffZ, bzip2Compress(extra)));
    // The child's peak rss before and after the apply.
    const script = join(dir, 'apply.mjs');
    const codecUrl = new URL('../../src/patch/index.ts', import.meta.url).href;
    await writeFile(
      script,
      `import { bsdiff4Codec } from ${JSON.stringify(codecUrl)};
const before = process.resourceUsage().maxRSS;
await bsdiff4Codec.apply(${JSON.stringify({ oldPath, patchPath, outPath, expectedSize: size + MB })});
console.log(JSON.stringify({ before, after: process.resourceUsage().maxRSS }));`,
    );
    const out = execFileSync(process.execPath, ['--import', 'tsx', script], {
      encoding: 'utf8',
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
    });
    const { before: rssBefore, after: rssAfter } = JSON.parse(out) as { before: number; after: number };
    const grownMb = (rssAfter - rssBefore) / 1024; // maxRSS is in KiB
    assert.equal((await stat(outPath)).size, size + MB);
    assert.equal(await sha256File(outPath), expectedHash);
    t.diagnostic(`peak rss growth ${grownMb.toFixed(1)} MB`);
    assert.ok(grownMb < 64, `rss grew by ${grownMb.toFixed(1)} MB`);
  });
});
