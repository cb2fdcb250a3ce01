/**
 * refresh (for cron jobs): with a fixed clock, re-signs exactly the roles that expire soon, as far as the keys at
 * hand allow, and what it writes still verifies with tuf-js (which uses the real clock).
 */
import assert from 'node:assert/strict';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  addDays,
  createTestRepo,
  makeTempDir,
  movePrivateKey,
  readSigned,
  snapshotTree,
  wholeSecondNow,
  writeBundle,
} from '../helpers/repo-fixtures.js';
import { assertClientAccepts } from '../helpers/tuf-client.js';

const ARCHIVE = 'app-1.0.0.tar.gz';

async function versions(metadataDir: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const role of ['root', 'targets', 'snapshot', 'timestamp'])
    out[role] = (await readSigned(join(metadataDir, `${role}.json`))).version;
  return out;
}

describe('refresh', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  before(async () => {
    ({ dir, cleanup } = await makeTempDir());
  });
  after(() => cleanup());

  test('nothing due → no change; 2 days later online roles; 400 days later every role', async () => {
    const t0 = wholeSecondNow();
    const r = await createTestRepo(join(dir, 'clock'), { now: t0 });
    await (await r.open({ now: () => t0 })).addRelease({
      bundleDir: await writeBundle(join(dir, 'b')),
      version: '1.0.0',
    });

    // Fresh metadata: nothing expires within a day (timestamp lasts exactly one).
    const before = await snapshotTree(r.cwd);
    const idle = await (await r.open({ now: () => t0 })).refresh();
    assert.deepEqual(idle.refreshed, []);
    assert.deepEqual(idle.skipped, []);
    assert.equal(idle.result, undefined);
    assert.deepEqual(await snapshotTree(r.cwd), before);

    // Two days on: timestamp has expired; snapshot and timestamp are re-signed, root and targets stay.
    const t2 = addDays(t0, 2);
    const online = await (await r.open({ now: () => t2 })).refresh();
    assert.deepEqual(online.refreshed, ['snapshot', 'timestamp']);
    assert.deepEqual(online.skipped, []);
    assert.deepEqual(online.result?.versions, { snapshot: 3, timestamp: 3 });
    assert.deepEqual(await versions(r.metadataDir), { root: 1, targets: 2, snapshot: 3, timestamp: 3 });
    const timestamp = await readSigned(join(r.metadataDir, 'timestamp.json'));
    assert.equal(timestamp['expires'], addDays(t2, 1).toISOString().replace('.000Z', 'Z'));
    await assertClientAccepts(r.repoDir, join(r.metadataDir, '1.root.json'), [ARCHIVE]);

    // Refreshing again at the same time has nothing to do.
    const again = await (await r.open({ now: () => t2 })).refresh();
    assert.equal(again.result, undefined);

    // 400 days on: root (365 days) and targets (7) have expired too; with every key here, all are re-signed.
    const t400 = addDays(t0, 400);
    const all = await (await r.open({ now: () => t400 })).refresh();
    assert.deepEqual(all.refreshed, ['root', 'targets', 'snapshot', 'timestamp']);
    assert.deepEqual(all.skipped, []);
    assert.deepEqual(await versions(r.metadataDir), { root: 2, targets: 3, snapshot: 4, timestamp: 4 });
    const root = await readSigned(join(r.metadataDir, '2.root.json'));
    assert.equal(root['expires'], addDays(t400, 365).toISOString().replace('.000Z', 'Z'));
    const client = await assertClientAccepts(r.repoDir, join(r.metadataDir, '1.root.json'), [ARCHIVE]);
    assert.equal(client.rootVersion, 2);
    assert.equal(client.targetsVersion, 3);

    const status = await (await r.open({ now: () => t400 })).status();
    for (const role of status.roles) assert.equal(role.expiry, 'ok', `${role.role} fresh after refresh`);
  });

  test('refresh(within) widens the window', async () => {
    const t0 = wholeSecondNow();
    const r = await createTestRepo(join(dir, 'within'), { now: t0 });
    // Targets and snapshot expire in 7 days, root in 365: within 10 days catches all but root.
    const plan = await (await r.open({ now: () => t0 })).refresh(10);
    assert.deepEqual(plan.refreshed, ['targets', 'snapshot', 'timestamp']);
    assert.deepEqual(await versions(r.metadataDir), { root: 1, targets: 2, snapshot: 2, timestamp: 2 });
    await assertClientAccepts(r.repoDir, join(r.metadataDir, '1.root.json'), []);
  });

  test('offline targets key not here: targets skipped with a reason, online roles still refreshed', async () => {
    const t0 = wholeSecondNow();
    const r = await createTestRepo(join(dir, 'offline'), { now: t0 });
    await (await r.open({ now: () => t0 })).addRelease({
      bundleDir: await writeBundle(join(dir, 'b2')),
      version: '1.0.0',
    });
    const offline = join(dir, 'offline-keys');
    await mkdir(offline);
    await movePrivateKey(r.keysDir, 'targets', offline);

    const t400 = addDays(t0, 400);
    const plan = await (await r.open({ now: () => t400 })).refresh();
    assert.deepEqual(plan.refreshed, ['root', 'snapshot', 'timestamp']);
    assert.equal(plan.skipped.length, 1);
    assert.equal(plan.skipped[0]!.role, 'targets');
    assert.match(plan.skipped[0]!.reason, /targets/);
    assert.deepEqual(await versions(r.metadataDir), { root: 2, targets: 2, snapshot: 3, timestamp: 3 });
    // tuf-js (real clock) accepts: targets has not expired in real time.
    await assertClientAccepts(r.repoDir, join(r.metadataDir, '1.root.json'), [ARCHIVE]);

    // A cron host with only the online keys: root (fresh since day 400) is not due, targets is skipped again.
    await rm(join(r.keysDir, 'root'));
    const t402 = addDays(t0, 402);
    const cron = await (await r.open({ now: () => t402 })).refresh();
    assert.deepEqual(cron.refreshed, ['snapshot', 'timestamp']);
    assert.deepEqual(cron.skipped.map((s) => s.role).sort(), ['targets']);
    assert.deepEqual(await versions(r.metadataDir), { root: 2, targets: 2, snapshot: 4, timestamp: 4 });
  });
});
