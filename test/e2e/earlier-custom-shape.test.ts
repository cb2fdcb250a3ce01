// biome-ignore-all lint/suspicious/noExplicitAny: the test rewrites metadata JSON
/**
 * Repositories published by earlier notsotuf versions keep notsotuf's facts beside tufup's (`custom.notsotuf`);
 * current ones keep them inside (`custom.tufup.notsotuf`, so that tufup's client reads `custom` correctly). A
 * served repository whose targets metadata is rewritten to the earlier shape and re-signed with the publisher's
 * targets key still updates the notsotuf client by patch, with the archive's tar facts checked.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { appFiles } from '../helpers/client-fixtures.js';
import { makeTempDir } from '../helpers/repo-fixtures.js';
import { type RepoSimulator, startSimulator } from '../helpers/repo-simulator.js';

let work: string;
let cleanup: () => Promise<void>;
let sim: RepoSimulator;

before(async () => {
  ({ dir: work, cleanup } = await makeTempDir('notsotuf-earlier-shape-'));
  sim = await startSimulator(work, [
    { version: '1.0.0', files: appFiles('1.0.0') },
    { version: '1.1.0', files: appFiles('1.1.0', { 'NEW.txt': 'new\n' }), userMeta: { changes: ['new'] } },
  ]);
});
after(async () => {
  await sim?.close();
  await cleanup();
});

/** Moves `custom.tufup.notsotuf` of every target to `custom.notsotuf`; returns how many were moved. */
function toEarlierShape(signed: Record<string, any>): number {
  let moved = 0;
  for (const target of Object.values<any>(signed['targets'])) {
    const part = target.custom?.tufup?.notsotuf;
    if (!part) continue;
    delete target.custom.tufup.notsotuf;
    target.custom.notsotuf = part;
    moved++;
  }
  return moved;
}

describe('a repository in the custom shape of earlier notsotuf versions', () => {
  test('the client still updates by patch, checking the patch codec and the tar facts', async () => {
    let moved = 0;
    await sim.forge({ targets: { edit: (s) => (moved = toEarlierShape(s)), signers: ['targets'] } });
    // Two archives and one patch carried notsotuf facts; all three are now in the earlier place.
    assert.equal(moved, 3);
    const ts = await sim.readMetadata('timestamp.json');
    const snap = await sim.readMetadata(`${(ts.signed as any).meta['snapshot.json'].version}.snapshot.json`);
    const targets = await sim.readMetadata(
      `${(snap.signed as any).meta['targets.json'].version}.targets.json`,
    );
    const patch = (targets.signed as any).targets['app-1.1.0.patch'];
    assert.deepEqual(Object.keys(patch.custom).sort(), ['notsotuf', 'tufup', 'user']);
    assert.equal(patch.custom.notsotuf.patch, 'notsotuf');

    const app = await sim.install('1.0.0');
    const result = await app.client.update();
    assert.equal(result?.download.method, 'patch');
    assert.equal(result?.version, '1.1.0');
    assert.equal(await readFile(join(app.installDir, 'VERSION'), 'utf8'), '1.1.0\n');
    assert.equal(await readFile(join(app.installDir, 'NEW.txt'), 'utf8'), 'new\n');
  });
});
