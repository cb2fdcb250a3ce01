/**
 * The local lock primitive (util/lock-file.ts): stale rules as a table, release only of our own token, takeovers
 * interleaved step by step, and real processes racing for one lock.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { acquireLock, isStaleHolder, type LockStep } from '../../src/util/lock-file.js';
import { newLockOwner } from '../../src/util/lock-owner.js';

const CHILD = fileURLToPath(new URL('./fixtures/lock-child.ts', import.meta.url));
const PROJECT = fileURLToPath(new URL('../..', import.meta.url));
const HOST = hostname();

/** The pid of a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  });
  return Number(child.stdout);
}

/** A lock file as a process `pid` of this host wrote it. */
function lockOf(pid: number, token = newLockOwner().token): string {
  return JSON.stringify({ token, pid, host: HOST, created: Date.now() });
}

/** A lock-child process, and its exit code (listened for at once: a quick child may exit before it is awaited). */
function child(...args: string[]): { proc: ChildProcess; exit: Promise<unknown> } {
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], {
    cwd: PROJECT,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  return { proc, exit: once(proc, 'exit').then(([code]) => code) };
}

/** The next line a child prints. */
async function nextLine(lines: AsyncIterator<string>): Promise<string> {
  const { value, done } = await lines.next();
  assert.ok(!done, 'the child exited early');
  return value;
}

async function codeOf(promise: Promise<() => Promise<void>>): Promise<string> {
  return promise.then(
    async (release) => {
      await release();
      return 'acquired';
    },
    (err: { code?: string }) => err.code ?? String(err),
  );
}

describe('isStaleHolder', () => {
  const now = 1_000_000_000_000;
  const here = { now, host: 'here', staleMs: 600_000 };
  const alive = (pid: number) => pid === 1;
  const rows: {
    name: string;
    owner?: { pid: number; host: string; created: number };
    ageMs?: number;
    stale: boolean;
  }[] = [
    {
      name: 'live holder on this host, however old',
      owner: { pid: 1, host: 'here', created: 0 },
      stale: false,
    },
    {
      name: 'dead holder on this host, just created',
      owner: { pid: 2, host: 'here', created: now },
      stale: true,
    },
    { name: 'this very process', owner: { pid: process.pid, host: 'here', created: 0 }, stale: false },
    { name: 'other host, fresh', owner: { pid: 2, host: 'there', created: now - 1000 }, stale: false },
    {
      name: 'other host, past the limit',
      owner: { pid: 2, host: 'there', created: now - 600_001 },
      stale: true,
    },
    { name: 'unreadable, young file', ageMs: 1000, stale: false },
    { name: 'unreadable, old file', ageMs: 600_001, stale: true },
  ];
  for (const row of rows) {
    test(row.name, () => {
      assert.equal(isStaleHolder({ owner: row.owner, ageMs: row.ageMs ?? 0 }, here, alive), row.stale);
    });
  }
});

describe('acquireLock', () => {
  let dir: string;
  let lock: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'notsotuf-lock-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));
  let n = 0;
  const fresh = () => {
    lock = join(dir, `l${++n}.lock`);
    return lock;
  };
  /** The names in the directory that belong to `lock` (the lock, temp files, break markers). */
  const leftovers = async () => (await readdir(dir)).filter((name) => name.startsWith(`l${n}.lock`));

  test('the lock holds a token, pid, host and time; a second taker fails; release removes it', async () => {
    const release = await acquireLock(fresh(), 'the test lock', undefined, 'CACHE_LOCKED');
    const owner = JSON.parse(await readFile(lock, 'utf8'));
    assert.match(owner.token, /^[0-9a-f]{32}$/);
    assert.deepEqual([owner.pid, owner.host, typeof owner.created], [process.pid, HOST, 'number']);
    assert.equal(await codeOf(acquireLock(lock, 'again', undefined, 'CACHE_LOCKED')), 'CACHE_LOCKED');
    await release();
    await release(); // idempotent
    assert.deepEqual(await leftovers(), []);
  });

  test('release leaves a lock that is no longer ours (taken over meanwhile)', async () => {
    const release = await acquireLock(fresh(), 'the test lock');
    const other = lockOf(process.pid);
    await writeFile(lock, other);
    await release();
    assert.equal(await readFile(lock, 'utf8'), other);
    await rm(lock);
  });

  test('waitMs waits for the holder to release', async () => {
    const release = await acquireLock(fresh(), 'the test lock');
    setTimeout(() => void release(), 100);
    const second = await acquireLock(lock, 'second', undefined, 'REPO_LOCKED', { waitMs: 5000 });
    await second();
    assert.deepEqual(await leftovers(), []);
  });

  test('an abort stops the wait with ABORTED', async () => {
    const release = await acquireLock(fresh(), 'the test lock');
    const signal = AbortSignal.timeout(50);
    assert.equal(
      await codeOf(acquireLock(lock, 'second', undefined, 'REPO_LOCKED', { waitMs: 5000, signal })),
      'ABORTED',
    );
    await release();
  });

  test('a lock of an older notsotuf (no token) of a dead process is taken over', async () => {
    await writeFile(fresh(), JSON.stringify({ pid: deadPid(), host: HOST, created: Date.now() }));
    const release = await acquireLock(lock, 'the test lock');
    await release();
    assert.deepEqual(await leftovers(), []);
  });

  test('a takeover by one acquirer is not undone by another that judged the same stale lock earlier', async () => {
    // A judges the dead holder's lock stale, then pauses; B takes it over and holds it; A resumes. A must find
    // B's token under the break marker and remove nothing. Without the re-read under the marker, A removes B's
    // live lock and both hold it: this test then fails with 'acquired'.
    await writeFile(fresh(), lockOf(deadPid()));
    let releaseB: (() => Promise<void>) | undefined;
    const onStep = async (step: LockStep) => {
      if (step === 'judged-stale') releaseB = await acquireLock(lock, 'B');
    };
    assert.equal(await codeOf(acquireLock(lock, 'A', undefined, 'REPO_LOCKED', { onStep })), 'REPO_LOCKED');
    assert.ok(releaseB, 'B took the stale lock over');
    assert.deepEqual(await leftovers(), [`l${n}.lock`], 'B still holds its lock, and nothing else is left');
    await releaseB();
    assert.deepEqual(await leftovers(), []);
  });

  test('while one acquirer holds the break marker of a stale lock, another does not remove it too', async () => {
    await writeFile(fresh(), lockOf(deadPid()));
    let second = '';
    const onStep = async (step: LockStep) => {
      if (step === 'marker-held') second = await codeOf(acquireLock(lock, 'B'));
    };
    const release = await acquireLock(lock, 'A', undefined, 'REPO_LOCKED', { onStep });
    assert.equal(second, 'REPO_LOCKED', 'B found the takeover in progress');
    assert.equal(JSON.parse(await readFile(lock, 'utf8')).pid, process.pid);
    await release();
    assert.deepEqual(await leftovers(), []);
  });

  test('a break marker left by a process killed mid-takeover does not wedge the lock', async () => {
    const token = newLockOwner().token;
    await writeFile(fresh(), lockOf(deadPid(), token));
    await writeFile(`${lock}.${token}.break`, lockOf(deadPid()));
    const release = await acquireLock(lock, 'the test lock', undefined, 'REPO_LOCKED', { waitMs: 2000 });
    await release();
    assert.deepEqual(await leftovers(), []);
  });

  test('... also without waiting: install-root recovery takes a lock whose holder died while releasing it', async () => {
    // A holder killed between creating the break marker of its own lock and removing the lock leaves both; the
    // next acquirer must clear the dead marker and take the lock in the same call (seen in a CI run).
    const token = newLockOwner().token;
    await writeFile(fresh(), lockOf(deadPid(), token));
    await writeFile(`${lock}.${token}.break`, lockOf(deadPid()));
    const release = await acquireLock(lock, 'the test lock');
    await release();
    assert.deepEqual(await leftovers(), []);
  });

  test('a fresh break marker of another host is respected', async () => {
    const token = newLockOwner().token;
    await writeFile(fresh(), lockOf(deadPid(), token));
    const marker = JSON.stringify({ ...newLockOwner(), host: `not-${HOST}` });
    await writeFile(`${lock}.${token}.break`, marker);
    assert.equal(await codeOf(acquireLock(lock, 'the test lock')), 'REPO_LOCKED');
  });
});

describe('racing processes', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'notsotuf-lock-race-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('8 processes incrementing one counter under the lock lose no increment', {
    timeout: 120_000,
  }, async () => {
    const lock = join(dir, 'counter.lock');
    const counter = join(dir, 'counter');
    await writeFile(counter, '0');
    const PROCESSES = 8;
    const EACH = 20;
    const children = Array.from({ length: PROCESSES }, () => child('count', lock, counter, String(EACH)));
    const codes = await Promise.all(children.map((c) => c.exit));
    assert.deepEqual(codes, Array(PROCESSES).fill(0));
    assert.equal(Number(await readFile(counter, 'utf8')), PROCESSES * EACH);
    assert.deepEqual((await readdir(dir)).sort(), ['counter'], 'no lock, temp file or marker is left');
  });

  test('a lock left by a killed process is taken over by exactly one of 8 racers', {
    timeout: 120_000,
  }, async () => {
    for (let round = 0; round < 2; round++) {
      const lock = join(dir, `stale-${round}.lock`);
      // All start together (a process start is the slow part); the racers wait for "go" until the holder is dead.
      const holder = child('hold', lock);
      const racers = Array.from({ length: 8 }, () => child('race', lock));
      const holderLines = createInterface({ input: holder.proc.stdout! })[Symbol.asyncIterator]();
      const lines = racers.map((r) => createInterface({ input: r.proc.stdout! })[Symbol.asyncIterator]());
      assert.equal(await nextLine(holderLines), 'held');
      holder.proc.kill('SIGKILL');
      await holder.exit;
      try {
        for (const l of lines) assert.equal(await nextLine(l), 'ready');
        for (const r of racers) r.proc.stdin!.write('go\n');
        const outcomes = await Promise.all(lines.map(nextLine));
        assert.equal(outcomes.filter((o) => o === 'won').length, 1, `round ${round}: ${outcomes.join(', ')}`);
        assert.equal(
          outcomes.filter((o) => o === 'REPO_LOCKED').length,
          7,
          `round ${round}: ${outcomes.join(', ')}`,
        );
      } finally {
        // The winner holds the lock until its stdin ends; a failing round must not leave it waiting.
        for (const r of racers) r.proc.stdin!.end();
      }
      assert.deepEqual(await Promise.all(racers.map((r) => r.exit)), Array(8).fill(0));
      assert.deepEqual(
        (await readdir(dir)).filter((name) => name.startsWith(`stale-${round}.lock`)),
        [],
        'the winner released; no temp file or marker is left',
      );
    }
  });
});
