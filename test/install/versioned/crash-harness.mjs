/**
 * Crash-injection harness for the versioned install, shared by crash-injection.test.ts and scripts/stress.mjs
 * (plain JavaScript on the BUILT dist/, so the stress script needs no tsx). Each run:
 *
 * 1. prepares an install root holding BASE and OLD (installed with the real versionedStrategy, OLD current);
 * 2. starts a child process (crash-harness-child.mjs, plain node) installing NEW, a release of many files, and
 *    SIGKILLs it at one kill point:
 *    - `op:K`   right before the child's K-th file-system call (every fs/promises function and FileHandle method
 *               the install makes: copyFile, open, chmod, sync, close, mkdir, symlink, rename, rm, writeFile…), so
 *               after call K-1 completed: the "between every file operation" granularity;
 *    - `step:N` when step N is announced (onStep, before the step's work);
 *    - `time:D` from the parent, D ms after the child announced it starts installing, D uniform in [0, T], T the
 *               measured duration of an uninterrupted install (calibrate: the median of a few, one at a time),
 *               so the kill may land inside a system call. Runs going on side by side slow each other down, so
 *               then these kills land mostly in the first part of the install; the `op` kills cover the end;
 * 3. runs the real entry point, `node dist/install/launcher/main.js <root>` (the copy, see below), which must exit 0 having started
 *    exactly OLD or exactly NEW (the app prints its version and the one the launcher selected);
 * 4. checks that install.json selects that version with the expected previous one, that both version directories
 *    are byte-identical to their releases (paths, types, modes, contents, link texts), that the launcher's
 *    recovery left no `.staging-*` or `.tmp` leftovers, and that data/ is untouched.
 *
 * A kill point is "hit" when the kill happened while the install was still running (the child did not finish).
 *
 * The built dist/install, dist/core and dist/util (Node built-ins only) are copied into the harness's temp dir
 * first, so a `npm run build` elsewhere during a long run cannot hand a child a half-written module. The temp dir
 * is on /dev/shm when there is one: a SIGKILL loses nothing the kernel has accepted, so a RAM file system tests
 * the same crash semantics as a disk, without the time of the install's fsyncs (`tmp` picks another place).
 */
import { accessSync, constants, existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describePoint, summarize } from './crash-harness-report.mjs';
import { installInChild, launch } from './crash-harness-spawn.mjs';
import {
  BASE,
  buildTree,
  diffSnapshots,
  ENTRY,
  expectedOutput,
  forceRemove,
  NEW,
  OLD,
  prng,
  releaseEntries,
  snapshot,
} from './crash-harness-trees.mjs';

export {
  describeFailure,
  describeModes,
  describePhases,
  describePoint,
  parseSeed,
  summarize,
} from './crash-harness-report.mjs';
export { BASE, NEW, OLD } from './crash-harness-trees.mjs';

const DIST = fileURLToPath(new URL('../../../dist/', import.meta.url));
const DIST_PARTS = ['install', 'core', 'util'];
const USER_DATA = 'the user data, never touched by installs\n';
const STEPS = 5;
/** Op kills aimed at the end of the install (from this many calls before step 3: move, switch, cleanup). */
const TAIL_OPS = 20;

/** Throws a clear error when the build the harness runs is missing. */
export function assertBuilt() {
  for (const file of ['install/index.js', 'install/launcher/main.js']) {
    if (!existsSync(join(DIST, file))) {
      throw new Error(
        `${join(DIST, file)} is missing: the crash harness runs the built code, so run \`npm run build\` first.`,
      );
    }
  }
}

function defaultTmp() {
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return tmpdir();
  }
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Creates the harness: a temp dir with the build and the three releases. Call `close()` at the end. */
export async function createHarness(options = {}) {
  assertBuilt();
  const base = await mkdtemp(join(options.tmp ?? defaultTmp(), 'notsotuf-crash-injection-'));
  try {
    const dist = join(base, 'dist');
    for (const part of DIST_PARTS) {
      await cp(join(DIST, part), join(dist, part), {
        recursive: true,
        filter: (f) => !/\.(map|ts)$/.test(f),
      });
    }
    await writeFile(join(dist, 'package.json'), '{ "type": "module" }\n');
    await options.mutate?.(dist); // a test's deliberate bug, to show that the checks catch it
    const api = await import(pathToFileURL(join(dist, 'install', 'index.js')).href);
    const harness = new CrashHarness(api, base, dist, options);
    await harness.buildReleases(options.small ?? 100, options.bigBytes ?? 1024 * 1024);
    return harness;
  } catch (err) {
    await forceRemove(base);
    throw err;
  }
}

class CrashHarness {
  constructor(api, base, dist, options) {
    this.api = api;
    this.base = base;
    this.distInstall = join(dist, 'install', 'index.js');
    this.launcher = join(dist, 'install', 'launcher', 'main.js');
    this.keepFailed = options.keepFailed ?? false;
    this.releases = new Map();
    this.calibration = undefined;
  }

  async buildReleases(small, bigBytes) {
    const sizes = {
      [BASE]: { small: 0, bigBytes: 0 },
      [OLD]: { small: Math.ceil(small / 5), bigBytes: Math.ceil(bigBytes / 4) },
      [NEW]: { small, bigBytes },
    };
    for (const [version, size] of Object.entries(sizes)) {
      const dir = join(this.base, 'releases', version);
      const entries = releaseEntries(version, size);
      await buildTree(dir, entries);
      this.releases.set(version, { dir, tree: await snapshot(dir), entries: entries.length });
    }
  }

  /**
   * Runs `samples` uninterrupted installs (one at a time by default) that must all end on NEW; records the
   * number of file-system calls of an install, the calls made before each step, and T.
   */
  async calibrate({ samples = 5, concurrency = 1 } = {}) {
    const points = Array.from({ length: samples }, () => ({ mode: 'none' }));
    const results = await this.runPoints(points, concurrency, 'calibrate');
    const broken = results.filter((r) => r.problems.length > 0 || r.outcome !== 'new' || !r.child.done);
    if (broken.length > 0) {
      const details = broken.map((r) => `${r.problems.join('; ')} (outcome ${r.outcome})`).join('\n');
      throw new Error(`an uninterrupted install did not end on ${NEW}:\n${details}`);
    }
    const ops = Math.max(...results.map((r) => r.child.ops));
    const stepOps = results[0].child.stepOps;
    this.calibration = {
      ops,
      stepOps,
      tailFrom: Math.max(1, (stepOps[3] ?? ops) - TAIL_OPS),
      durationMs: median(results.map((r) => r.child.durationMs)),
      files: this.releases.get(NEW).entries,
    };
    return this.calibration;
  }

  /**
   * The kill points of `runs` runs, reproducible from `seed` (given the calibration): the 5 step boundaries,
   * with `sweep` every file-system call once (when `runs` leaves room for them, then the rest are random times),
   * the rest drawn at random: half `op` (half of those uniform over all calls, half over the calls from the
   * end of the copy on, where the move, switch and cleanup are), half `time` (uniform in [0, T]). Shuffled.
   */
  plan({ runs, seed, sweep = false }) {
    if (this.calibration === undefined) throw new Error('calibrate() first');
    const { ops, tailFrom, durationMs } = this.calibration;
    const rand = prng(seed);
    const points = [];
    for (let step = 1; step <= STEPS && points.length < runs; step++) points.push({ mode: 'step', step });
    const sweeping = sweep && runs - points.length >= ops;
    if (sweeping) for (let op = 1; op <= ops; op++) points.push({ mode: 'op', op });
    while (points.length < runs) {
      if (!sweeping && rand() < 0.5) {
        const from = rand() < 0.5 ? 1 : tailFrom;
        points.push({ mode: 'op', op: from + Math.floor(rand() * (ops - from + 1)) });
      } else points.push({ mode: 'time', delayMs: rand() * durationMs });
    }
    for (let i = points.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [points[i], points[j]] = [points[j], points[i]];
    }
    return { points, sweeping };
  }

  /** Runs every point, `concurrency` at a time; `onResult(result, finished)` after each. */
  async runAll(points, { concurrency = 2, onResult } = {}) {
    const results = await this.runPoints(points, concurrency, 'run', onResult);
    return summarize(results);
  }

  async runPoints(points, concurrency, prefix, onResult) {
    const results = new Array(points.length);
    let next = 0;
    let finished = 0;
    const worker = async () => {
      while (next < points.length) {
        const index = next++;
        results[index] = await this.runOne(points[index], `${prefix}-${index}`).catch((err) => ({
          id: `${prefix}-${index}`,
          point: describePoint(points[index]),
          mode: points[index].mode,
          hit: false,
          outcome: null,
          problems: [`harness error: ${err instanceof Error ? err.stack : String(err)}`],
          child: { done: false, ops: 0, stepOps: {} },
        }));
        finished += 1;
        onResult?.(results[index], finished);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
    return results;
  }

  /** One run: prepare a root, install NEW in a child killed at `point`, start the entry point, check. */
  async runOne(point, id) {
    const dir = join(this.base, 'runs', id);
    const root = await this.setupRoot(dir);
    const child = await installInChild({
      distInstall: this.distInstall,
      root,
      sourceDir: this.releases.get(NEW).dir,
      version: NEW,
      point,
    });
    const phase = await this.phaseOf(root);
    const check = await this.verify(root);
    const problems = [...child.problems, ...check.problems];
    if (problems.length === 0 || !this.keepFailed) await forceRemove(dir);
    return {
      id,
      point: describePoint(point),
      mode: point.mode,
      hit: child.killed && !child.done,
      phase,
      outcome: check.outcome,
      problems,
      killedAt: child.killLine,
      root: problems.length > 0 && this.keepFailed ? root : undefined,
      child,
    };
  }

  /**
   * How far the install got, read from the root as the kill left it: `preparing` (no staging directory yet),
   * `copying`, `moved` (versions/NEW in place, not switched), `switched` (install.json names NEW, cleanup not
   * finished) or `finished`. A diagnostic of where the kills landed, not a check.
   */
  async phaseOf(root) {
    const state = await this.api.readInstallState(root).catch(() => undefined);
    const names = await readdir(join(root, 'versions')).catch(() => []);
    if (state?.current === NEW) {
      return names.includes(BASE) || names.some((n) => n.startsWith('.')) ? 'switched' : 'finished';
    }
    if (names.includes(NEW)) return 'moved';
    return names.some((n) => n.startsWith('.')) ? 'copying' : 'preparing';
  }

  /** An install root holding BASE and OLD (current), installed with the real strategy, and the app's data. */
  async setupRoot(dir) {
    const root = join(dir, 'root');
    await mkdir(join(root, 'data'), { recursive: true });
    await writeFile(join(root, 'data', 'user.db'), USER_DATA);
    for (const version of [BASE, OLD]) {
      await this.api.versionedStrategy({ entry: ENTRY }).install({
        sourceDir: this.releases.get(version).dir,
        installDir: root,
        version,
      });
    }
    return root;
  }

  /** Starts the entry point on `root` and checks everything; `outcome` is 'old', 'new' or null (broken). */
  async verify(root) {
    const problems = [];
    const run = await launch(this.launcher, root);
    if (run.code !== 0) {
      problems.push(`the entry point exited with ${run.code ?? run.signal}: ${run.stderr.trim()}`);
    }
    const version = [OLD, NEW].find((v) => run.stdout === expectedOutput(v));
    if (version === undefined) {
      problems.push(`the app printed ${JSON.stringify(run.stdout)}, not exactly ${OLD}'s or ${NEW}'s line`);
    }
    const state = await this.api.readInstallState(root).then(
      (s) => s ?? 'install.json is missing',
      (err) => `install.json cannot be read: ${err.message}`,
    );
    if (typeof state === 'string') problems.push(state);
    else {
      if (version !== undefined && state.current !== version) {
        problems.push(`install.json selects ${state.current}, but the entry point started ${version}`);
      }
      const expectedPrevious = state.current === NEW ? OLD : BASE;
      if (state.previous !== expectedPrevious) {
        problems.push(`install.json keeps ${state.previous} for rollback, not ${expectedPrevious}`);
      }
      for (const v of [state.current, state.previous]) {
        if (v === null) continue;
        const release = this.releases.get(v);
        if (release === undefined) {
          problems.push(`install.json names ${v}, which was never installed`);
          continue;
        }
        const tree = await snapshot(this.api.versionDir(root, v)).catch(() => ({}));
        const diff = diffSnapshots(release.tree, tree);
        if (diff.length > 0) problems.push(`versions/${v} differs from its release: ${diff.join('; ')}`);
      }
    }
    const junk = [
      ...(await readdir(join(root, 'versions')).catch(() => []))
        .filter((n) => n.startsWith('.'))
        .map((n) => `versions/${n}`),
      ...(await readdir(root)).filter((n) => n.endsWith('.tmp')),
    ];
    if (junk.length > 0) problems.push(`leftovers after the entry point's recovery: ${junk.join(', ')}`);
    const data = await readFile(join(root, 'data', 'user.db'), 'utf8').catch(() => undefined);
    if (data !== USER_DATA) problems.push('data/user.db was changed');
    const outcome = problems.length > 0 ? null : version === NEW ? 'new' : 'old';
    return { outcome, version, problems };
  }

  async close() {
    await forceRemove(this.base);
  }
}
