/**
 * Crash safety with real processes: a child installs 1.2.0 into a root holding 1.0.0 and 1.1.0 and is killed with
 * SIGKILL right after it announces step N (for every N, at a few delays, so kills land inside each step). After
 * recovery, install.json must select exactly the old or exactly the new version, whose directory (and the previous
 * one's) must be byte for byte its release, with modes; no leftovers; data/ untouched; and a new install must work.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readInstallState, recoverInstallRoot, versionDir } from '../../../src/install/index.js';
import { type Snapshot, snapshot, type TreeSpec, tempDir } from '../helpers.js';
import { installVersion, makeRelease, makeRoot, releaseSpec } from './fixtures.js';

const CHILD = fileURLToPath(new URL('./crash-child.mts', import.meta.url));
const OLD = '1.1.0';
const NEW = '1.2.0';
const DELAYS_MS = [0, 20];

/** Many files, so a kill during the copy lands between files. */
function bigRelease(version: string): TreeSpec {
  const spec: TreeSpec = releaseSpec(version);
  for (let i = 0; i < 120; i++) spec[`lib/many/file-${String(i).padStart(3, '0')}.txt`] = `${version} ${i}\n`;
  return spec;
}

/** Runs the child; kills it `delay` ms after it announces step `killAt`. Resolves with what it printed. */
function runChild(
  args: string[],
  killAt: number,
  delay: number,
): Promise<{ lines: string[]; killed: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    let buffered = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      const parts = buffered.split('\n');
      buffered = parts.pop() as string;
      for (const line of parts) {
        lines.push(line);
        if (line === `step ${killAt}`) setTimeout(() => child.kill('SIGKILL'), delay);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    // 'exit' fires once the child is reaped, so its pid is dead when recovery checks the lock it left.
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL' || code === 0) resolve({ lines, killed: signal === 'SIGKILL' });
      else reject(new Error(`child failed (${code}): ${stderr}`));
    });
  });
}

describe('versioned install survives SIGKILL at every step', () => {
  let base: string;
  let cleanup: () => Promise<void>;
  const trees = new Map<string, Snapshot>();
  const releaseDirs = new Map<string, string>();
  before(async () => {
    ({ dir: base, cleanup } = await tempDir('notsotuf-crash-'));
    for (const v of ['1.0.0', OLD]) {
      const r = await makeRelease(base, v);
      trees.set(v, r.tree);
      releaseDirs.set(v, r.dir);
    }
    const r = await makeRelease(base, NEW, bigRelease(NEW));
    trees.set(NEW, r.tree);
    releaseDirs.set(NEW, r.dir);
  });
  after(() => cleanup());

  const outcomes = new Set<string>();

  async function crashOnce(killAt: number, delay: number): Promise<void> {
    const root = await makeRoot(join(base, `kill-${killAt}-${delay}`));
    for (const v of ['1.0.0', OLD]) await installVersion(root, releaseDirs.get(v) as string, v);
    const dataBefore = await snapshot(join(root, 'data'));
    const { lines } = await runChild([root, releaseDirs.get(NEW) as string, NEW], killAt, delay);
    assert.ok(lines.includes(`step ${killAt}`), `the child reached step ${killAt}: ${lines.join(', ')}`);

    const report = await recoverInstallRoot(root);
    assert.equal(report.kind, 'recovered', 'the dead child’s lock is taken over');
    const state = await readInstallState(root);
    assert.ok(state !== undefined);
    assert.ok(state.current === OLD || state.current === NEW, `current is ${state.current}`);
    outcomes.add(state.current);
    if (state.current === NEW) {
      assert.equal(state.previous, OLD);
      assert.equal(state.trial?.version, NEW);
    } else {
      assert.equal(state.previous, '1.0.0');
    }
    for (const v of [state.current, state.previous]) {
      if (v !== null)
        assert.deepEqual(await snapshot(versionDir(root, v)), trees.get(v), `versions/${v} is complete`);
    }
    const versions = await readdir(join(root, 'versions'));
    assert.deepEqual(
      versions.filter((n) => n.startsWith('.')),
      [],
      'no staging leftovers',
    );
    assert.deepEqual(
      (await readdir(root)).filter((n) => n.endsWith('.tmp')),
      [],
      'no temp state files',
    );
    assert.deepEqual(await snapshot(join(root, 'data')), dataBefore);

    // The root stays usable: installing the new version again completes.
    await installVersion(root, releaseDirs.get(NEW) as string, NEW);
    const after = await readInstallState(root);
    assert.equal(after?.current, NEW);
    assert.deepEqual(await snapshot(versionDir(root, NEW)), trees.get(NEW));
    assert.deepEqual((await readdir(join(root, 'versions'))).sort(), [OLD, NEW].sort());
  }

  for (const killAt of [1, 2, 3, 4, 5]) {
    test(`killed after step ${killAt} is announced (delays ${DELAYS_MS.join(', ')} ms)`, async () => {
      await Promise.all(DELAYS_MS.map((delay) => crashOnce(killAt, delay)));
    });
  }

  test('both outcomes occurred: the kills landed before and after the switch', () => {
    assert.deepEqual([...outcomes].sort(), [OLD, NEW]);
  });
});
