/**
 * Release control across a fleet: more than a thousand simulated installs, each a real Client with its own install
 * id, check a repository made by the real publisher and served over HTTP on 127.0.0.1, while the publisher stages a
 * release V = 2.1.0, moves it to its second wave, halts and resumes it, sets a minimum version, recalls it (one
 * version, then a range) and ships a maintenance release on an older line. Every answer comes from the clients; the
 * test only counts and compares. The last part does the same through the built CLI.
 *
 * The 1,000 installs on 2.0.0 all check at 10 %, at 50 % and after the resume (the shares and "exactly the same
 * set" need every one of them); the halt is checked by every install the rollout had reached and a part of the
 * others; the steps about the other groups (critical, recall, maintenance line) by all of those and 50 of the 1,000.
 * The installs share a few cache dirs (one per lane; a lane checks one install after the other, so the cache lock
 * is never contended), on a RAM disk when there is one (the checks write their metadata with fsync), and one empty
 * install dir (a check never touches it).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Client } from '../../src/client/client.js';
import type { WithheldRelease } from '../../src/client/plan/offer.js';
import type { UpdateInfo } from '../../src/client/update-info.js';
import type { AddReleaseOptions } from '../../src/repo/release-ops.js';
import type { Repository } from '../../src/repo/repository.js';
import { rolloutWaves } from '../../src/repo/rollout-schedule.js';
import { cli } from '../cli/run-cli.js';
import {
  appFiles,
  clientFor,
  installArchive,
  type PublishedRepo,
  publishedArchive,
  servedRepo,
} from '../helpers/client-fixtures.js';
import { makeTempDir, writeBundle } from '../helpers/repo-fixtures.js';

const LANES = 2;
const HOUR = 3_600_000;
/** The main fleet, on 2.0.0: the installs whose shares of V are measured. */
const FLEET = 1000;
/** How many of the main fleet take part in the checks that are about the other groups. */
const SAMPLE = 50;

type Group = 'main' | 'onV' | 'old142' | 'old141' | 'old13' | 'onFix';

interface Install {
  readonly id: string;
  readonly version: string;
  readonly group: Group;
}

interface Answer {
  /** The version offered, or null. */
  readonly version: string | null;
  readonly info: UpdateInfo | null;
  /** From the info, or from the update-not-available event. */
  readonly withheld: readonly WithheldRelease[];
}

function makeGroup(group: Group, version: string, count: number): Install[] {
  return Array.from({ length: count }, (_, i) => ({ id: `fleet-${group}-${i}`, version, group }));
}

const MAIN = makeGroup('main', '2.0.0', FLEET);
const OTHERS: readonly Install[] = [
  // Early adopters already on V.
  ...makeGroup('onV', '2.1.0', 50),
  // Line 1.4 (both published), and an install of an unpublished 1.3 build.
  ...makeGroup('old142', '1.4.2', 60),
  ...makeGroup('old141', '1.4.1', 30),
  ...makeGroup('old13', '1.3.9', 20),
];
const ALL: readonly Install[] = [...MAIN, ...OTHERS];
const SAMPLED: readonly Install[] = [...MAIN.slice(0, SAMPLE), ...OTHERS];
const ON_FIX = makeGroup('onFix', '2.1.1', 30);

/** The second wave of V has started, by the clients' clock. */
const WAVE2 = Date.now() + 25 * HOUR;

let work: string;
let cleanup: () => Promise<void>;
let cacheRoot: string;
let served: PublishedRepo;
let repo: Repository;
let fleetInstallDir: string;
const measured: Record<string, string> = {};

before(async () => {
  ({ dir: work, cleanup } = await makeTempDir('notsotuf-fleet-'));
  cacheRoot = existsSync('/dev/shm') ? await mkdtemp('/dev/shm/notsotuf-fleet-') : join(work, 'caches');
  served = await servedRepo(work, [
    { version: '1.3.0', files: appFiles('1.3.0') },
    { version: '1.4.1', files: appFiles('1.4.1') },
    { version: '1.4.2', files: appFiles('1.4.2', { 'FIX.txt': '1.4.2\n' }) },
  ]);
  repo = await served.repo.open();
  // 2.0 is a major upgrade, still at 30 % for the 1.x installs.
  await addRelease('2.0.0', { rollout: rolloutWaves(30, [], new Date(Date.now() - HOUR)) });
  // V: 10 % now, 50 % from 24 h on.
  await addRelease('2.1.0', {
    rollout: rolloutWaves(10, [{ percent: 50, afterMs: 24 * HOUR }], new Date()),
  });
  fleetInstallDir = join(work, 'fleet-app');
  await mkdir(fleetInstallDir, { recursive: true });
});
after(async () => {
  if (Object.keys(measured).length > 0) console.log(`# fleet shares of V: ${JSON.stringify(measured)}`);
  await served?.close();
  if (cacheRoot?.startsWith('/dev/shm/')) await rm(cacheRoot, { recursive: true, force: true });
  await cleanup?.();
});

async function addRelease(
  version: string,
  options: Partial<AddReleaseOptions> = {},
  extra: Record<string, string> = {},
): Promise<void> {
  const bundleDir = await writeBundle(join(work, `bundle-${version}`), appFiles(version, extra));
  await repo.addRelease({ bundleDir, version, ...options });
}

/** One check of `install`, as the app sees it. */
async function check(client: Client): Promise<Answer> {
  let withheld: readonly WithheldRelease[] = [];
  const off = client.on('update-not-available', (e) => {
    withheld = e.withheld;
  });
  const info = await client.checkForUpdates();
  off();
  return { version: info?.version ?? null, info, withheld: info?.withheld ?? withheld };
}

/** Checks every install (LANES at a time, one cache dir per lane): each answer by install id. */
async function checkFleet(
  installs: readonly Install[],
  options: { now?: number } = {},
): Promise<Map<string, Answer>> {
  const answers = new Map<string, Answer>();
  const lane = async (n: number) => {
    const cacheDir = join(cacheRoot, `lane-${n}`);
    for (let i = n; i < installs.length; i += LANES) {
      const install = installs[i] as Install;
      const client = clientFor(served, {
        currentVersion: install.version,
        installDir: fleetInstallDir,
        cacheDir,
        installId: install.id,
        ...(options.now === undefined ? {} : { now: () => options.now as number }),
      });
      answers.set(install.id, await check(client));
    }
  };
  await Promise.all(Array.from({ length: LANES }, (_, n) => lane(n)));
  assert.equal(answers.size, installs.length);
  return answers;
}

const inGroup = (group: Group) => ALL.filter((i) => i.group === group);
const answerOf = (answers: Map<string, Answer>, install: Install) => answers.get(install.id) as Answer;
const withheldOf = (answer: Answer, version: string) => answer.withheld.find((w) => w.version === version);

/** The ids of the main fleet offered V. */
function offeredV(answers: Map<string, Answer>, installs: readonly Install[] = MAIN): Set<string> {
  return new Set(
    installs.filter((i) => i.group === 'main' && answers.get(i.id)?.version === '2.1.0').map((i) => i.id),
  );
}

function assertShare(offered: number, expected: number, label: string): void {
  const share = (100 * offered) / FLEET;
  measured[label] = `${offered}/${FLEET} = ${share.toFixed(1)} %`;
  assert.ok(
    Math.abs(share - expected) <= 3,
    `${label}: ${offered} of ${FLEET} installs (${share.toFixed(1)} %), expected ${expected} % ± 3 points`,
  );
}

describe(`a fleet of ${ALL.length} installs against a real served repository`, { concurrency: false }, () => {
  let at10: Map<string, Answer>;
  let set10: Set<string>;
  let set50: Set<string>;

  test('at 10 %: about a tenth of the fleet is offered V, each install by its own bucket', async () => {
    at10 = await checkFleet([...MAIN, ...inGroup('onV')]);
    set10 = offeredV(at10);
    assertShare(set10.size, 10, 'V at 10 %');
    for (const install of MAIN) {
      const answer = answerOf(at10, install);
      if (set10.has(install.id)) {
        assert.equal(answer.info?.rollout?.percent, 10);
        assert.ok(
          (answer.info?.rollout?.bucket ?? 100) < 10,
          'an offered install has a bucket below the share',
        );
        assert.equal(answer.info?.critical, false);
      } else {
        assert.equal(answer.version, null, `${install.id}: nothing else is newer than 2.0.0`);
        const w = withheldOf(answer, '2.1.0');
        assert.equal(w?.reason, 'rollout');
        assert.equal(w?.percent, 10);
        assert.ok((w?.bucket ?? -1) >= 10, 'a withheld install has a bucket at or above the share');
      }
    }
    for (const install of inGroup('onV')) assert.deepEqual(answerOf(at10, install).version, null);
  });

  test('a second check gives the same answer (every install offered V, and a sample of the others)', async () => {
    const again = [...new Set([...MAIN.filter((i) => set10.has(i.id)), ...MAIN.slice(0, 100)])];
    const answers = await checkFleet(again);
    for (const install of again) {
      assert.equal(answerOf(answers, install).version, answerOf(at10, install).version, install.id);
    }
  });

  test("at the second wave (50 % by the client's clock): about half, and nobody offered at 10 % is dropped", async () => {
    const answers = await checkFleet(MAIN, { now: WAVE2 });
    set50 = offeredV(answers);
    assertShare(set50.size, 50, 'V at 50 %');
    for (const id of set10) assert.ok(set50.has(id), `${id} was offered V at 10 % but not at 50 %`);
    for (const id of set50) assert.equal(answers.get(id)?.info?.rollout?.percent, 50);
    assert.ok(set50.size > set10.size);
  });

  test('halt: no install that is not on V is offered V; installs on V are not moved anywhere', async () => {
    await repo.changeReleasePolicy({ version: '2.1.0' }, { kind: 'halt' });
    // Every install the rollout had reached, 200 it had not, and every other group.
    const checked = [
      ...MAIN.filter((i) => set50.has(i.id)),
      ...MAIN.filter((i) => !set50.has(i.id)).slice(0, 200),
      ...OTHERS,
    ];
    const answers = await checkFleet(checked, { now: WAVE2 });
    for (const install of checked) {
      const answer = answerOf(answers, install);
      assert.notEqual(answer.version, '2.1.0', `${install.id} was offered the halted release`);
      if (install.group === 'main') {
        assert.equal(answer.version, null);
        assert.equal(withheldOf(answer, '2.1.0')?.reason, 'halted');
      }
      if (install.group === 'onV') {
        assert.equal(answer.version, null, 'no downgrade for an install on a halted release');
        assert.deepEqual(answer.withheld, []);
      }
    }
  });

  test('resume: exactly the installs offered before the halt are offered V again', async () => {
    await repo.changeReleasePolicy({ version: '2.1.0' }, { kind: 'resume' });
    const answers = await checkFleet(MAIN, { now: WAVE2 });
    assert.deepEqual(offeredV(answers), set50);
  });

  test('2.0.0 critical below 1.4.2: every install below it updates whatever its buckets; the rest keep them', async () => {
    await repo.changeReleasePolicy({ version: '2.0.0' }, { kind: 'minimum', minimumVersion: '1.4.2' });
    const answers = await checkFleet(SAMPLED, { now: WAVE2 });
    const below = [...inGroup('old141'), ...inGroup('old13')];
    const versions = new Set<string | null>();
    for (const install of below) {
      const info = answerOf(answers, install).info;
      // 2.0.0 reaches them although it is at 30 %; those in V's 50 % go straight to V, still told it is critical.
      assert.ok(info?.version === '2.0.0' || info?.version === '2.1.0', install.id);
      assert.equal(info?.critical, true, `${install.id} is below the minimum version`);
      // `rollout` is there only when the rollout itself reached the install.
      if (info.rollout) assert.ok(info.rollout.bucket < info.rollout.percent, install.id);
      versions.add(info.version);
    }
    assert.deepEqual([...versions].sort(), ['2.0.0', '2.1.0'], 'both cases occur among these installs');
    let outside = 0;
    for (const install of inGroup('old142')) {
      const answer = answerOf(answers, install);
      assert.equal(answer.info?.critical ?? false, false, `${install.id} is at the minimum version`);
      if (withheldOf(answer, '2.0.0')?.reason === 'rollout') outside++;
    }
    assert.ok(outside > 0, 'installs at the minimum still follow the 30 % rollout of 2.0.0');
    assert.deepEqual(
      offeredV(answers, SAMPLED),
      new Set([...set50].filter((id) => SAMPLED.some((i) => i.id === id))),
    );
    await repo.changeReleasePolicy({ version: '2.0.0' }, { kind: 'minimum', minimumVersion: undefined });
  });

  test('recall V → 2.0.0: every install on V is moved to 2.0.0 by its full archive, and no other install', async () => {
    await repo.changeReleasePolicy(
      { version: '2.1.0' },
      { kind: 'recall', to: '2.0.0', reason: 'crashes at start' },
    );
    const answers = await checkFleet(SAMPLED, { now: WAVE2 });
    for (const install of SAMPLED) {
      const answer = answerOf(answers, install);
      assert.notEqual(answer.version, '2.1.0', `${install.id} was offered the recalled release`);
      if (install.group === 'onV') {
        const info = answer.info;
        assert.equal(info?.version, '2.0.0', install.id);
        assert.deepEqual(info?.recall, { from: '2.1.0', reason: 'crashes at start' });
        assert.equal(info?.critical, true);
        assert.deepEqual(info?.method.kind === 'full' && info.method.reason, 'recall');
      } else {
        assert.equal(answer.info?.recall, undefined, `${install.id} is not on a recalled release`);
      }
      if (install.group === 'main') {
        assert.equal(answer.version, null);
        assert.equal(withheldOf(answer, '2.1.0')?.reason, 'recalled');
      }
    }
  });

  test('a fix 2.1.1 moves the recalled installs forward; a range recall 2.1.0..2.1.1 then moves both back', async () => {
    await addRelease('2.1.1', {}, { 'FIX.txt': 'fixed\n' });
    const fleet = [...SAMPLED, ...ON_FIX];
    let answers = await checkFleet(fleet);
    for (const install of inGroup('onV')) {
      const info = answerOf(answers, install).info;
      assert.equal(info?.version, '2.1.1', 'a newer offered release beats the recall');
      assert.equal(info?.recall, undefined);
    }

    await repo.changeReleasePolicy(
      { version: '2.1.0', through: '2.1.1' },
      { kind: 'recall', to: '2.0.0', reason: 'data loss' },
    );
    answers = await checkFleet(fleet);
    for (const install of fleet) {
      const answer = answerOf(answers, install);
      if (install.group === 'onV' || install.group === 'onFix') {
        assert.equal(answer.info?.version, '2.0.0', install.id);
        assert.deepEqual(answer.info?.recall, { from: install.version, reason: 'data loss' });
        continue;
      }
      assert.equal(answer.info?.recall, undefined, install.id);
      assert.ok(answer.version === null || !answer.version.startsWith('2.1.'), install.id);
      if (install.group === 'main') {
        assert.equal(answer.version, null);
        assert.deepEqual(
          answer.withheld.map((w) => `${w.version} ${w.reason}`),
          ['2.1.0 recalled', '2.1.1 recalled'],
        );
      }
    }
  });

  test('a maintenance release 1.4.3 after 2.x is offered on line 1.4 only, where 2.0 has not arrived', async () => {
    await addRelease('1.4.3', { maintenance: true }, { 'FIX.txt': '1.4.3\n' });
    const answers = await checkFleet(SAMPLED);
    let toMaintenance = 0;
    for (const install of SAMPLED) {
      const answer = answerOf(answers, install);
      if (install.group === 'old142' || install.group === 'old141') {
        // 2.0.0 is at 30 %: the installs it reached go there, every other install of the line to 1.4.3.
        const reached = withheldOf(answer, '2.0.0') === undefined;
        assert.equal(answer.version, reached ? '2.0.0' : '1.4.3', install.id);
        if (!reached) toMaintenance++;
      } else {
        assert.notEqual(answer.version, '1.4.3', `${install.id} (${install.version}) is not on line 1.4`);
      }
      if (install.group === 'old13') {
        assert.deepEqual(withheldOf(answer, '1.4.3'), { version: '1.4.3', reason: 'line', line: '1.4' });
      }
    }
    assert.ok(toMaintenance > 0, 'some installs of line 1.4 are outside the 2.0 rollout');
  });

  test('an install on 1.4.2 outside the 2.0 rollout updates to 1.4.3 by the patch of its own line', async () => {
    // Found by asking clients, not by computing buckets.
    let installId: string | undefined;
    for (let i = 0; installId === undefined && i < 100; i++) {
      const probe = clientFor(served, {
        currentVersion: '1.4.2',
        installDir: fleetInstallDir,
        cacheDir: join(cacheRoot, 'lane-0'),
        installId: `real-${i}`,
      });
      if ((await probe.checkForUpdates())?.version === '1.4.3') installId = `real-${i}`;
    }
    assert.ok(installId, 'no install id outside the 2.0 rollout');
    const installDir = join(work, 'real-142', 'app');
    const cacheDir = join(work, 'real-142', 'cache');
    const name = 'app-1.4.2.tar.gz';
    await installArchive(await publishedArchive(served.repo, name), name, installDir, cacheDir);
    // A slow link (10 KB/s), so that the patch beats the small full archive on time too.
    const client = clientFor(served, {
      currentVersion: '1.4.2',
      installDir,
      cacheDir,
      installId,
      downloadRate: 10_000,
    });
    const info = await client.checkForUpdates();
    assert.equal(info?.version, '1.4.3');
    assert.deepEqual(info?.method.kind === 'patch' && info.method.patches.map((p) => p.name), [
      'app-1.4.3.patch',
    ]);
    const result = await client.update();
    assert.equal(result?.download.method, 'patch');
    assert.equal(await readFile(join(installDir, 'VERSION'), 'utf8'), '1.4.3\n');
    assert.equal(await readFile(join(installDir, 'FIX.txt'), 'utf8'), '1.4.3\n');
  });
});

interface ListedRelease {
  version: string;
  policy: null | {
    rollout?: { percent: number; start: string }[];
    halted?: boolean;
    recall?: { to: string; reason?: string };
  };
  control: string | null;
}

interface CheckJson {
  ok: true;
  update: null | (UpdateInfo & { method: { kind: string; reason?: string } });
  withheld: WithheldRelease[];
}

describe('the same through the built CLI: release rollout/halt/recall, list, status, client check', () => {
  let cliWork: string;
  let cliCleanup: () => Promise<void>;
  let small: PublishedRepo;
  let installDir: string;

  before(async () => {
    ({ dir: cliWork, cleanup: cliCleanup } = await makeTempDir('notsotuf-fleet-cli-'));
    small = await servedRepo(cliWork, [
      { version: '1.0.0', files: appFiles('1.0.0') },
      { version: '1.1.0', files: appFiles('1.1.0') },
    ]);
    installDir = join(cliWork, 'app');
    const name = 'app-1.0.0.tar.gz';
    await installArchive(await publishedArchive(small.repo, name), name, installDir, join(cliWork, 'c'));
  });
  after(async () => {
    await small?.close();
    await cliCleanup?.();
  });

  const publisher = (args: string[]) => cli([...args, '--json'], { cwd: small.repo.cwd });
  const listed = async (version: string) =>
    (await publisher(['release', 'list']))
      .json<{ releases: ListedRelease[] }>()
      .releases.find((r) => r.version === version);
  let cacheN = 0;
  const clientCheck = async (installId: string, currentVersion = '1.0.0') =>
    (
      await cli(
        [
          'client',
          'check',
          '--app',
          'app',
          '--current-version',
          currentVersion,
          '--install-dir',
          installDir,
          '--cache-dir',
          join(cliWork, `cache-${cacheN++}`),
          '--metadata-url',
          `${small.server.url}/metadata/`,
          '--targets-url',
          `${small.server.url}/targets/`,
          '--trusted-root',
          small.trustedRoot,
          '--install-id',
          installId,
          '--json',
        ],
        { cwd: cliWork },
      )
    ).json<CheckJson>();

  test('a staged rollout, a halt and a recall are shown by the publisher and obeyed by the client', async () => {
    await publisher(['release', 'rollout', '1.1.0', '--percent', '10', '--then', '50@24h']);
    const staged = await listed('1.1.0');
    assert.deepEqual(
      staged?.policy?.rollout?.map((w) => w.percent),
      [10, 50],
    );
    const [first, second] = staged?.policy?.rollout ?? [];
    assert.equal(Date.parse(second?.start ?? '') - Date.parse(first?.start ?? ''), 24 * HOUR);
    assert.match(staged?.control ?? '', /^rollout 10 % \(50 % from /);
    const status = (await publisher(['status'])).json<{ releases: ListedRelease[] }>();
    assert.deepEqual(
      status.releases.find((r) => r.version === '1.1.0')?.policy?.rollout?.map((w) => w.percent),
      [10, 50],
    );

    // One install the 10 % reaches and one it does not, found by asking library clients of the same ids.
    const ask = (installId: string) =>
      clientFor(small, {
        currentVersion: '1.0.0',
        installDir,
        cacheDir: join(cliWork, 'probe'),
        installId,
      }).checkForUpdates();
    let inside: string | undefined;
    let outside: string | undefined;
    for (let i = 0; (inside === undefined || outside === undefined) && i < 300; i++) {
      const id = `cli-${i}`;
      if (await ask(id)) inside ??= id;
      else outside ??= id;
    }
    assert.ok(inside && outside, 'both kinds of install among 300 ids at 10 %');

    const offered = await clientCheck(inside);
    assert.equal(offered.update?.version, '1.1.0');
    assert.equal(offered.update?.rollout?.percent, 10);
    const withheld = await clientCheck(outside);
    assert.equal(withheld.update, null);
    assert.equal(withheld.withheld.length, 1);
    assert.deepEqual(
      { ...withheld.withheld[0], bucket: undefined },
      { version: '1.1.0', reason: 'rollout', percent: 10, bucket: undefined },
    );
    assert.ok((withheld.withheld[0]?.bucket ?? -1) >= 10);

    await publisher(['release', 'halt', '1.1.0']);
    assert.equal((await listed('1.1.0'))?.policy?.halted, true);
    assert.match((await listed('1.1.0'))?.control ?? '', /halted/);
    const halted = await clientCheck(inside);
    assert.equal(halted.update, null, 'the halt reaches the install the rollout had reached');
    assert.deepEqual(halted.withheld, [{ version: '1.1.0', reason: 'halted' }]);

    await publisher(['release', 'recall', '1.1.0', '--to', '1.0.0', '--reason', 'bad build']);
    assert.deepEqual((await listed('1.1.0'))?.policy?.recall, { to: '1.0.0', reason: 'bad build' });
    const recalled = await clientCheck(outside, '1.1.0');
    assert.equal(recalled.update?.version, '1.0.0');
    assert.deepEqual(recalled.update?.recall, { from: '1.1.0', reason: 'bad build' });
    assert.equal(recalled.update?.critical, true);
    assert.deepEqual(recalled.update?.method, {
      kind: 'full',
      archive: { name: 'app-1.0.0.tar.gz', length: recalled.update?.archiveBytes },
      reason: 'recall',
    });
    const onGood = await clientCheck(inside);
    assert.equal(onGood.update, null);
    assert.deepEqual(onGood.withheld, [{ version: '1.1.0', reason: 'recalled' }]);
  });
});
