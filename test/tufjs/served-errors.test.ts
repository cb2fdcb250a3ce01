/**
 * tuf-js errors triggered for real: a Client against a repository served over HTTP (repo-simulator.ts), with
 * validly signed metadata that tuf-js still refuses. Regression (issue 21): classified by message text, any
 * error mentioning "version" became METADATA_ROLLBACK, so an unsupported spec_version was reported as a rollback
 * attack.
 */
import { after, before, describe, test } from 'node:test';
import { appFiles } from '../helpers/client-fixtures.js';
import { expectCode, makeTempDir } from '../helpers/repo-fixtures.js';
import { type RepoSimulator, startSimulator } from '../helpers/repo-simulator.js';

let cleanup: () => Promise<void>;
let sim: RepoSimulator;

before(async () => {
  const temp = await makeTempDir('notsotuf-tufjs-errors-');
  cleanup = temp.cleanup;
  sim = await startSimulator(temp.dir, [
    { version: '1.0.0', files: appFiles('1.0.0') },
    { version: '1.1.0', files: appFiles('1.1.0') },
  ]);
  await sim.save('published');
});
after(async () => {
  await sim?.close();
  await cleanup?.();
});

describe('tuf-js errors from a served repository', () => {
  test('a timestamp with an unsupported spec_version → METADATA_INVALID, not METADATA_ROLLBACK', async () => {
    await sim.serveSaved('published');
    const app = await sim.install('1.0.0');
    await sim.forge({ timestamp: { edit: (s) => (s.spec_version = '2.0.0'), signers: ['timestamp'] } });
    await expectCode(app.client.checkForUpdates(), 'METADATA_INVALID');
  });

  test('a snapshot with an unsupported spec_version (wrapped by tuf-js) → METADATA_INVALID', async () => {
    await sim.serveSaved('published');
    const app = await sim.install('1.0.0');
    await sim.forge({ snapshot: { edit: (s) => (s.spec_version = '2.0.0'), signers: ['snapshot'] } });
    await expectCode(app.client.checkForUpdates(), 'METADATA_INVALID');
  });

  test('a snapshot without a version (wrapped by tuf-js) → METADATA_INVALID', async () => {
    await sim.serveSaved('published');
    const app = await sim.install('1.0.0');
    await sim.forge({ snapshot: { edit: (s) => delete s.version, signers: ['snapshot'] } });
    await expectCode(app.client.checkForUpdates(), 'METADATA_INVALID');
  });
});
