// biome-ignore-all lint/suspicious/noExplicitAny: the attacker edits metadata JSON freely
/**
 * Attacks on release control (the rollout, halt and recall of a release are signed data in its targets entry):
 * an attacker who controls the server and holds the online keys (timestamp and snapshot) tries to lift a halt or a
 * recall, or to raise a rollout, by forging targets, by serving the targets from before the change (rollback) or
 * by serving an old state for ever (freeze). The client must refuse with a specific code and install nothing, and
 * keep the policy it trusted. A control test shows that the same edit signed with the targets key does change the
 * policy: that key is the one to keep offline.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ErrorCode } from '../../src/core/errors.js';
import type { PolicyChange } from '../../src/repo/release-control.js';
import { rolloutWaves } from '../../src/repo/rollout-schedule.js';
import { appFiles } from '../helpers/client-fixtures.js';
import { expectCode, makeTempDir, snapshotTree } from '../helpers/repo-fixtures.js';
import { type InstalledApp, type RepoSimulator, startSimulator } from '../helpers/repo-simulator.js';

let work: string;
let cleanup: () => Promise<void>;
let sim: RepoSimulator;
let states = 0;

const DAY = 86_400_000;
const iso = (ms: number) => `${new Date(ms).toISOString().slice(0, 19)}Z`;
const ARCHIVE = 'app-1.1.0.tar.gz';
/** The online keys: the thief holds both. */
const ONLINE = ['snapshot', 'timestamp'] as const;

before(async () => {
  ({ dir: work, cleanup } = await makeTempDir('notsotuf-policy-attacks-'));
  sim = await startSimulator(work, [
    { version: '1.0.0', files: appFiles('1.0.0') },
    { version: '1.1.0', files: appFiles('1.1.0', { 'NEW.txt': 'new\n' }) },
  ]);
  await sim.save('released');
});
after(async () => {
  await sim?.close();
  await cleanup();
});

/**
 * Starts from the state where 1.1.0 is released to everyone (the publisher's own repository is put back to it
 * too), then lets the publisher apply `changes` and publish them; returns the names of the saved states.
 */
async function published(...changes: PolicyChange[]): Promise<{ before: string; after: string }> {
  sim.calm();
  const before = `before-${states++}`;
  await sim.serveSaved('released');
  await restorePublisher();
  await sim.save(before);
  const repo = await sim.repo.open();
  for (const change of changes) await repo.changeReleasePolicy({ version: '1.1.0' }, change);
  await sim.sync();
  const afterName = `after-${states++}`;
  await sim.save(afterName);
  return { before, after: afterName };
}

/** The publisher's repository as it was at 'released' (what sim.sync() copies from). */
async function restorePublisher(): Promise<void> {
  await rm(sim.repo.repoDir, { recursive: true, force: true });
  await cp(join(work, 'saved', 'released'), sim.repo.repoDir, { recursive: true });
}

/** The client refuses with `code`, and the installed app is exactly as it was. */
async function refused(
  app: InstalledApp,
  code: ErrorCode,
  version: string,
  run: () => Promise<unknown> = () => app.client.update(),
): Promise<void> {
  await expectCode(run(), code);
  assert.deepEqual(await snapshotTree(app.installDir), app.before, 'the installed app is untouched');
  assert.equal(await readFile(join(app.installDir, 'VERSION'), 'utf8'), `${version}\n`);
}

/** Signed edits of the 1.1.0 archive entry's policy fields. */
const policyOf = (s: Record<string, any>) => s.targets[ARCHIVE].custom.tufup.notsotuf;
const liftHalt = (s: Record<string, any>) => delete policyOf(s).halted;
const liftRecall = (s: Record<string, any>) => delete policyOf(s).recall;
const fullRollout = (s: Record<string, any>) => delete policyOf(s).rollout;

/** Forges a new targets version with `edit`, signed by `signers`, under snapshot and timestamp signed by the thief. */
function forgeTargets(edit: (s: Record<string, any>) => void, signers: readonly string[]): Promise<void> {
  return sim.forge({
    targets: { edit, signers },
    snapshot: { signers: ['snapshot'] },
    timestamp: { signers: ['timestamp'] },
  });
}

describe('the policy is signed by the targets key: stolen online keys cannot change it', () => {
  for (const signer of ONLINE) {
    test(`a halt lifted, targets signed with the stolen ${signer} key → METADATA_SIGNATURE_INVALID`, async () => {
      await published({ kind: 'halt' });
      const app = await sim.install('1.0.0');
      assert.equal(await app.client.checkForUpdates(), null, 'the halt is in force');
      await forgeTargets(liftHalt, [signer]);
      await refused(app, 'METADATA_SIGNATURE_INVALID', '1.0.0');
    });
  }

  test('a 0 % rollout raised to every install, targets signed with both online keys → refused', async () => {
    await published({ kind: 'rollout', waves: rolloutWaves(0, [], new Date()) });
    const app = await sim.install('1.0.0');
    assert.equal(await app.client.checkForUpdates(), null, 'nobody is offered 1.1.0 at 0 %');
    await forgeTargets(fullRollout, [...ONLINE]);
    await refused(app, 'METADATA_SIGNATURE_INVALID', '1.0.0');
  });

  test('a halt lifted in place: the edited targets keep the publisher’s signature → METADATA_SIGNATURE_INVALID', async () => {
    await published({ kind: 'halt' });
    const app = await sim.install('1.0.0');
    const ts = (await sim.readMetadata('timestamp.json')) as any;
    const snap = (await sim.readMetadata(`${ts.signed.meta['snapshot.json'].version}.snapshot.json`)) as any;
    const version = snap.signed.meta['targets.json'].version as number;
    const original = (await sim.readMetadata(`${version}.targets.json`)) as any;
    await forgeTargets(liftHalt, []);
    // The forged targets carry the publisher's valid signature of the unedited targets.
    const forged = (await sim.readMetadata(`${version + 1}.targets.json`)) as any;
    forged.signatures = original.signatures;
    await sim.writeServed(`metadata/${version + 1}.targets.json`, JSON.stringify(forged));
    // The snapshot must name the bytes served: re-forge snapshot and timestamp over them.
    const bytes = Buffer.from(JSON.stringify(forged));
    await sim.forge({
      snapshot: {
        edit: (s) => {
          s.meta['targets.json'] = {
            version: version + 1,
            length: bytes.length,
            hashes: { sha256: createHash('sha256').update(bytes).digest('hex') },
          };
        },
        signers: ['snapshot'],
      },
    });
    await refused(app, 'METADATA_SIGNATURE_INVALID', '1.0.0');
  });

  test('a recall lifted, targets signed with the stolen snapshot key → refused; the app on the bad release stays put', async () => {
    await published({ kind: 'recall', to: '1.0.0', reason: 'bad build' });
    const app = await sim.install('1.1.0');
    assert.deepEqual((await app.client.checkForUpdates())?.recall, { from: '1.1.0', reason: 'bad build' });
    await forgeTargets(liftRecall, ['snapshot']);
    await refused(app, 'METADATA_SIGNATURE_INVALID', '1.1.0');
  });
});

describe('rollback: the targets from before a halt, once the client has seen the halt', () => {
  test('the whole older state served again → METADATA_ROLLBACK, and the client keeps the halt', async () => {
    const { before: old, after: halted } = await published({ kind: 'halt' });
    const app = await sim.install('1.0.0');
    let withheld: unknown;
    app.client.on('update-not-available', (e) => {
      withheld = e.withheld;
    });
    assert.equal(await app.client.checkForUpdates(), null);
    assert.deepEqual(withheld, [{ version: '1.1.0', reason: 'halted' }]);
    await sim.serveSaved(old);
    await refused(app, 'METADATA_ROLLBACK', '1.0.0');
    await sim.serveSaved(halted);
    withheld = undefined;
    assert.equal(await app.client.checkForUpdates(), null, 'the halt is still in force');
    assert.deepEqual(withheld, [{ version: '1.1.0', reason: 'halted' }]);
  });

  test('a new snapshot (stolen key) naming the pre-halt targets version → METADATA_ROLLBACK', async () => {
    await published({ kind: 'halt' });
    const app = await sim.install('1.0.0');
    assert.equal(await app.client.checkForUpdates(), null);
    const ts = (await sim.readMetadata('timestamp.json')) as any;
    const snap = (await sim.readMetadata(`${ts.signed.meta['snapshot.json'].version}.snapshot.json`)) as any;
    const preHalt = (snap.signed.meta['targets.json'].version as number) - 1;
    const bytes = await readFile(join(sim.served, 'metadata', `${preHalt}.targets.json`));
    assert.equal(
      JSON.parse(bytes.toString()).signed.targets[ARCHIVE].custom.tufup.notsotuf.halted,
      undefined,
      'the older targets version has no halt',
    );
    await sim.forge({
      snapshot: {
        edit: (s) => {
          s.meta['targets.json'] = {
            version: preHalt,
            length: bytes.length,
            hashes: { sha256: createHash('sha256').update(bytes).digest('hex') },
          };
        },
        signers: ['snapshot'],
      },
    });
    await refused(app, 'METADATA_ROLLBACK', '1.0.0');
  });
});

describe('freeze: an old state without the halt, served past its expiry', () => {
  const past = () => iso(Date.now() - DAY);

  test('the pre-halt state with its timestamp expired → METADATA_EXPIRED', async () => {
    const { before: old } = await published({ kind: 'halt' });
    const app = await sim.install('1.0.0');
    await sim.serveSaved(old);
    await sim.resign('timestamp.json', (s) => (s.expires = past()), ['timestamp']);
    await refused(app, 'METADATA_EXPIRED', '1.0.0');
  });

  test('the pre-halt state with its snapshot expired → METADATA_EXPIRED', async () => {
    const { before: old } = await published({ kind: 'halt' });
    const app = await sim.install('1.0.0');
    await sim.serveSaved(old);
    await sim.forge({ snapshot: { edit: (s) => (s.expires = past()), signers: ['snapshot'] } });
    await refused(app, 'METADATA_EXPIRED', '1.0.0');
  });

  test("the client's rollout clock does not move expiry: a client a year ahead still refuses", async () => {
    const { before: old } = await published({ kind: 'halt' });
    const app = await sim.install('1.0.0', { now: () => Date.now() + 365 * DAY });
    await sim.serveSaved(old);
    await sim.resign('timestamp.json', (s) => (s.expires = past()), ['timestamp']);
    await refused(app, 'METADATA_EXPIRED', '1.0.0');
  });
});

describe('control: the harness forges what it claims', () => {
  test('the halt lifted and signed with the targets key is accepted: keep that key offline', async () => {
    await published({ kind: 'halt' });
    const app = await sim.install('1.0.0');
    assert.equal(await app.client.checkForUpdates(), null);
    await forgeTargets(liftHalt, ['targets']);
    assert.equal((await app.client.checkForUpdates())?.version, '1.1.0');
  });
});
