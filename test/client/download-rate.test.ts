import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  DOWNLOAD_RATE_FILE,
  MIN_RATE_SAMPLE_BYTES,
  nextDownloadRate,
  readDownloadRate,
  recordDownloadRate,
} from '../../src/client/download-rate.js';
import { makeTempDir } from '../helpers/repo-fixtures.js';

const MiB = MIN_RATE_SAMPLE_BYTES;

describe('nextDownloadRate: an EWMA of large downloads only', () => {
  const cases = [
    {
      name: 'first sample',
      prev: undefined,
      bytes: 10 * MiB,
      s: 2,
      expected: { bytesPerSecond: 5 * MiB, samples: 1 },
    },
    {
      name: 'later samples weigh 0.3',
      prev: { bytesPerSecond: 10 * MiB, samples: 3 },
      bytes: 20 * MiB,
      s: 1,
      expected: { bytesPerSecond: 13 * MiB, samples: 4 },
    },
    {
      name: 'a small download (latency, not rate) is ignored',
      prev: { bytesPerSecond: 10 * MiB, samples: 3 },
      bytes: MiB - 1,
      s: 0.001,
      expected: { bytesPerSecond: 10 * MiB, samples: 3 },
    },
    { name: 'zero time is ignored', prev: undefined, bytes: 10 * MiB, s: 0, expected: undefined },
    { name: 'negative time is ignored', prev: undefined, bytes: 10 * MiB, s: -1, expected: undefined },
  ];
  for (const c of cases)
    it(c.name, () => assert.deepEqual(nextDownloadRate(c.prev, c.bytes, c.s), c.expected));
});

describe('the rate file in the cache dir', () => {
  it('records, reads back, and ignores a damaged file', async (t) => {
    const tmp = await makeTempDir('notsotuf-rate-');
    t.after(tmp.cleanup);
    assert.equal(await readDownloadRate(tmp.dir), undefined);
    await recordDownloadRate(tmp.dir, 4 * MiB, 2);
    assert.deepEqual(await readDownloadRate(tmp.dir), { bytesPerSecond: 2 * MiB, samples: 1 });
    await recordDownloadRate(tmp.dir, 1000, 1); // too small: unchanged
    assert.deepEqual(await readDownloadRate(tmp.dir), { bytesPerSecond: 2 * MiB, samples: 1 });
    for (const bad of [
      '{',
      '{"bytesPerSecond":-1,"samples":1}',
      '{"bytesPerSecond":"x","samples":1}',
      'null',
    ]) {
      await writeFile(join(tmp.dir, DOWNLOAD_RATE_FILE), bad);
      assert.equal(await readDownloadRate(tmp.dir), undefined, bad);
    }
    // A damaged file is replaced by the next good sample.
    await recordDownloadRate(tmp.dir, 4 * MiB, 1);
    assert.deepEqual(await readDownloadRate(tmp.dir), { bytesPerSecond: 4 * MiB, samples: 1 });
  });

  it('a cache dir that cannot be written only loses the sample', async () => {
    await recordDownloadRate('/nonexistent/notsotuf-cache', 4 * MiB, 1);
  });
});
