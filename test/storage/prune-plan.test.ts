import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseGrace, planPrune } from '../../src/storage/prune-plan.js';
import {
  type JournalEntry,
  parseJournal,
  recordPublish,
  serializeJournal,
} from '../../src/storage/publish-journal.js';

const DAY = 86_400_000;
const now = new Date('2026-12-05T12:00:00Z');
const daysAgo = (d: number) => new Date(now.getTime() - d * DAY).toISOString();

/** Snapshot N references its own versioned metadata and the archives of releases 1..N (minus `removed`). */
function entry(snapshot: number, publishedAt: string, removed: number[] = []): JournalEntry {
  const files = [`metadata/${snapshot}.snapshot.json`, `metadata/${snapshot}.targets.json`];
  for (let r = 1; r <= snapshot; r++) if (!removed.includes(r)) files.push(`targets/h${r}.app-${r}.tar.gz`);
  return { snapshot, publishedAt, files };
}

const remoteKeys = [
  'metadata/1.root.json',
  'metadata/root.json',
  'metadata/timestamp.json',
  'metadata/snapshot.json',
  'metadata/targets.json',
  ...[1, 2, 3, 4].flatMap((v) => [`metadata/${v}.snapshot.json`, `metadata/${v}.targets.json`]),
  ...[1, 2, 3, 4].map((r) => `targets/h${r}.app-${r}.tar.gz`),
  'metadata/role1.json',
];

describe('planPrune (pure)', () => {
  test('deletes only what no state of the grace period references; roots, unversioned and unknown files stay', () => {
    // Release 1 was removed in snapshot 3 (10 days ago) and is still gone in 4 (today).
    const journal = [
      entry(1, daysAgo(40)),
      entry(2, daysAgo(30)),
      entry(3, daysAgo(10), [1]),
      entry(4, daysAgo(0), [1]),
    ];
    const plan = planPrune({
      remoteKeys,
      localKeys: new Set(),
      journal,
      currentSnapshot: 4,
      now,
      graceMs: 7 * DAY,
    });
    // States in use: 4 (current) and 3 (current until today). 2 and 1 were replaced 10 and 30 days ago.
    assert.deepEqual(plan.keptSnapshots, [3, 4]);
    assert.deepEqual(plan.deletions, [
      'metadata/1.snapshot.json',
      'metadata/1.targets.json',
      'metadata/2.snapshot.json',
      'metadata/2.targets.json',
      'targets/h1.app-1.tar.gz',
    ]);
    assert.equal(plan.blockedBy, undefined);
  });

  test('a state replaced within the grace period keeps everything it references', () => {
    const journal = [entry(1, daysAgo(40)), entry(2, daysAgo(30)), entry(3, daysAgo(2), [1])];
    const plan = planPrune({
      remoteKeys,
      localKeys: new Set(),
      journal,
      currentSnapshot: 3,
      now,
      graceMs: 7 * DAY,
    });
    // Snapshot 2 (which still had release 1) was current until 2 days ago: its files stay.
    assert.ok(!plan.deletions.includes('targets/h1.app-1.tar.gz'));
    assert.ok(!plan.deletions.includes('metadata/2.snapshot.json'));
    assert.ok(plan.deletions.includes('metadata/1.snapshot.json'));
  });

  test('files the local repository has are never deleted (the next publish would upload them again)', () => {
    const journal = [entry(1, daysAgo(40)), entry(2, daysAgo(30))];
    const plan = planPrune({
      remoteKeys,
      localKeys: new Set(['metadata/1.snapshot.json']),
      journal,
      currentSnapshot: 2,
      now,
      graceMs: 7 * DAY,
    });
    assert.ok(!plan.deletions.includes('metadata/1.snapshot.json'));
    assert.ok(plan.deletions.includes('metadata/1.targets.json'));
  });

  test('a gap in the journal within the grace period blocks pruning entirely', () => {
    // Snapshot 3 was published by another tool (no entry); 4 came today.
    const journal = [entry(1, daysAgo(40)), entry(2, daysAgo(30)), entry(4, daysAgo(0), [1, 2, 3])];
    const plan = planPrune({
      remoteKeys,
      localKeys: new Set(),
      journal,
      currentSnapshot: 4,
      now,
      graceMs: 7 * DAY,
    });
    assert.deepEqual(plan.deletions, []);
    assert.match(plan.blockedBy ?? '', /journal/);
    // After the grace period has passed since snapshot 4, its own entry is enough.
    const later = planPrune({
      remoteKeys,
      localKeys: new Set(),
      journal,
      currentSnapshot: 4,
      now: new Date(now.getTime() + 8 * DAY),
      graceMs: 7 * DAY,
    });
    assert.equal(later.blockedBy, undefined);
    assert.ok(later.deletions.includes('targets/h3.app-3.tar.gz'));
    assert.deepEqual(later.keptSnapshots, [4]);
  });

  test('an empty journal (a destination published before journals) prunes nothing', () => {
    const plan = planPrune({
      remoteKeys,
      localKeys: new Set(),
      journal: [],
      currentSnapshot: 4,
      now,
      graceMs: 0,
    });
    assert.deepEqual(plan.deletions, []);
    assert.ok(plan.blockedBy);
  });

  test('back to the first snapshot within the grace period: everything is known, nothing unused', () => {
    const journal = [entry(1, daysAgo(1)), entry(2, daysAgo(0))];
    const plan = planPrune({
      remoteKeys: remoteKeys.filter((k) => !/[34]\./.test(k) && !/app-[34]/.test(k)),
      localKeys: new Set(),
      journal,
      currentSnapshot: 2,
      now,
      graceMs: 7 * DAY,
    });
    assert.equal(plan.blockedBy, undefined);
    assert.deepEqual(plan.deletions, []);
  });
});

describe('publish journal', () => {
  test('round-trips; keeps the first publish time of a snapshot; unreadable input reads as empty', () => {
    const one = entry(1, daysAgo(3));
    const journal = recordPublish(recordPublish([], one), entry(1, daysAgo(0)));
    assert.deepEqual(journal, [one]);
    assert.deepEqual(parseJournal(serializeJournal(journal)), journal);
    for (const bad of [
      '',
      'null',
      '{"format":2,"entries":[]}',
      '{"format":1,"entries":[{"snapshot":-1}]}',
      '\u0000',
    ]) {
      assert.deepEqual(parseJournal(Buffer.from(bad)), [], JSON.stringify(bad));
    }
    const mixed = Buffer.from(
      JSON.stringify({ format: 1, entries: [one, { snapshot: 2, publishedAt: 'yesterday', files: [] }] }),
    );
    assert.deepEqual(parseJournal(mixed), [one], 'a malformed entry is dropped, the good ones kept');
  });

  test('parseGrace', () => {
    assert.equal(parseGrace('7d'), 7 * DAY);
    assert.equal(parseGrace('36h'), 36 * 3_600_000);
    assert.equal(parseGrace('30m'), 30 * 60_000);
    assert.equal(parseGrace('0s'), 0);
    for (const bad of ['', '7', 'd', '-1d', '1.5h', '7w', '9999999d'])
      assert.equal(parseGrace(bad), undefined, bad);
  });
});
