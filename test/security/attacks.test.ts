// biome-ignore-all lint/suspicious/noExplicitAny: the attacker edits metadata JSON freely
/**
 * The attacks TUF exists to survive, end to end: a real client, installed at 1.0.0, updates through a server the
 * test controls (repo-simulator.ts). For each attack the client must refuse with a specific code, install nothing
 * (the install directory is byte for byte what it was) and keep no attacker byte in its cache as trusted.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import type { ErrorCode } from '../../src/core/errors.js';
import { type RawMember, rawTar } from '../archive/raw-tar.js';
import { appFiles } from '../helpers/client-fixtures.js';
import { expectCode, makeTempDir, snapshotTree } from '../helpers/repo-fixtures.js';
import { type InstalledApp, type RepoSimulator, startSimulator } from '../helpers/repo-simulator.js';

let work: string;
let cleanup: () => Promise<void>;
let sim: RepoSimulator;

before(async () => {
  ({ dir: work, cleanup } = await makeTempDir('notsotuf-attacks-'));
  sim = await startSimulator(work, [
    { version: '1.0.0', files: appFiles('1.0.0') },
    { version: '1.1.0', files: appFiles('1.1.0', { 'NEW.txt': 'new\n' }) },
  ]);
  await sim.save('published');
});
after(async () => {
  await sim?.close();
  await cleanup();
});

/** Every test starts from the legitimate published state, with no attack rule. */
async function fresh(): Promise<InstalledApp> {
  sim.calm();
  await sim.serveSaved('published');
  return sim.install('1.0.0');
}

/** The client refuses with `code`, and the installed app is exactly as it was. */
async function refused(
  app: InstalledApp,
  code: ErrorCode,
  run: () => Promise<unknown> = () => app.client.update(),
): Promise<void> {
  await expectCode(run(), code);
  assert.deepEqual(await snapshotTree(app.installDir), app.before, 'the installed app is untouched');
  assert.equal(await readFile(join(app.installDir, 'VERSION'), 'utf8'), '1.0.0\n');
}

const ARCHIVE = /app-1\.1\.0\.tar\.gz$/;
const PATCH = /app-1\.1\.0\.patch$/;
const DAY = 86_400_000;
const iso = (ms: number) => `${new Date(ms).toISOString().slice(0, 19)}Z`;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** The served file of a target (consistent snapshots: `<sha256>.<name>`). */
async function servedTarget(pattern: RegExp): Promise<Buffer> {
  const { readdir } = await import('node:fs/promises');
  const name = (await readdir(join(sim.served, 'targets'))).find((f) => pattern.test(f));
  assert.ok(name, `no served target matches ${pattern}`);
  return readFile(join(sim.served, 'targets', name));
}

describe('arbitrary software', () => {
  test('the archive and the patch replaced with other bytes of the same length → TARGET_VERIFY_FAILED', async () => {
    const app = await fresh();
    sim.attack(ARCHIVE, { kind: 'replace', body: Buffer.alloc((await servedTarget(ARCHIVE)).length, 1) });
    sim.attack(PATCH, { kind: 'replace', body: Buffer.alloc((await servedTarget(PATCH)).length, 2) });
    await refused(app, 'TARGET_VERIFY_FAILED');
  });

  test('only the patch replaced: refused, and the update comes through the verified full archive', async () => {
    const app = await fresh();
    sim.attack(PATCH, { kind: 'replace', body: Buffer.alloc((await servedTarget(PATCH)).length, 2) });
    const result = await app.client.update();
    assert.equal(result?.download.method, 'full');
    assert.equal(await readFile(join(app.installDir, 'VERSION'), 'utf8'), '1.1.0\n');
  });

  test('the right bytes followed by more → DOWNLOAD_TOO_LARGE', async () => {
    const app = await fresh();
    sim.attack(ARCHIVE, { kind: 'extend', extra: Buffer.alloc(4096, 3) });
    sim.attack(PATCH, { kind: 'extend', extra: Buffer.alloc(4096, 3) });
    await refused(app, 'DOWNLOAD_TOO_LARGE');
  });
});

describe('rollback', () => {
  test('an older timestamp than the client trusts → METADATA_ROLLBACK', async () => {
    const app = await fresh();
    await app.client.checkForUpdates();
    await sim.forge({}); // a newer legitimate-looking state the client then trusts
    await app.client.checkForUpdates();
    await sim.serveSaved('published');
    await refused(app, 'METADATA_ROLLBACK');
  });

  test('a new timestamp naming an older snapshot (stolen timestamp key) → METADATA_ROLLBACK', async () => {
    const app = await fresh();
    await sim.forge({});
    await app.client.checkForUpdates();
    await sim.resign(
      'timestamp.json',
      (s) => {
        s.version += 1;
        s.meta['snapshot.json'].version -= 1;
      },
      ['timestamp'],
    );
    await refused(app, 'METADATA_ROLLBACK');
  });

  test('a new snapshot naming an older targets version (stolen online keys) → METADATA_ROLLBACK', async () => {
    const app = await fresh();
    await sim.forge({ targets: { signers: ['targets'] } });
    await app.client.checkForUpdates();
    const older = (await sim.readMetadata('timestamp.json')) as any;
    const snapVersion = older.signed.meta['snapshot.json'].version;
    const snap = (await sim.readMetadata(`${snapVersion}.snapshot.json`)) as any;
    const olderTargets = snap.signed.meta['targets.json'].version - 1;
    const bytes = await readFile(join(sim.served, 'metadata', `${olderTargets}.targets.json`));
    await sim.forge({
      snapshot: {
        edit: (s) => {
          s.meta['targets.json'] = {
            version: olderTargets,
            length: bytes.length,
            hashes: { sha256: sha256(bytes) },
          };
        },
        signers: ['snapshot'],
      },
    });
    await refused(app, 'METADATA_ROLLBACK');
  });

  test('an old release relabelled as 9.0.0, targets signed by the snapshot key → METADATA_SIGNATURE_INVALID', async () => {
    const app = await fresh();
    await sim.forge({
      targets: {
        edit: (s) => {
          s.targets['app-9.0.0.tar.gz'] = s.targets['app-1.0.0.tar.gz'];
        },
        signers: ['snapshot'],
      },
    });
    await refused(app, 'METADATA_SIGNATURE_INVALID');
  });
});

describe('freeze', () => {
  const past = () => iso(Date.now() - DAY);
  test('an expired timestamp → METADATA_EXPIRED', async () => {
    await sim.serveSaved('published');
    const app = await fresh();
    await sim.forge({ timestamp: { edit: (s) => (s.expires = past()), signers: ['timestamp'] } });
    await refused(app, 'METADATA_EXPIRED');
  });
  test('an expired snapshot → METADATA_EXPIRED', async () => {
    const app = await fresh();
    await sim.forge({ snapshot: { edit: (s) => (s.expires = past()), signers: ['snapshot'] } });
    await refused(app, 'METADATA_EXPIRED');
  });
  test('an expired targets → METADATA_EXPIRED', async () => {
    const app = await fresh();
    await sim.forge({ targets: { edit: (s) => (s.expires = past()), signers: ['targets'] } });
    await refused(app, 'METADATA_EXPIRED');
  });
  test('an expired root → METADATA_EXPIRED', async () => {
    const app = await fresh();
    await sim.writeServed(
      'metadata/2.root.json',
      await readFile(join(sim.served, 'metadata', '1.root.json')),
    );
    await sim.resign(
      '2.root.json',
      (s) => {
        s.version = 2;
        s.expires = past();
      },
      ['root'],
    );
    await refused(app, 'METADATA_EXPIRED');
  });
});

describe('mix and match', () => {
  test('a snapshot naming targets version N served with the targets of another publish → refused', async () => {
    const app = await fresh();
    await sim.forge({ targets: { signers: ['targets'] } });
    const ts = (await sim.readMetadata('timestamp.json')) as any;
    const snap = (await sim.readMetadata(`${ts.signed.meta['snapshot.json'].version}.snapshot.json`)) as any;
    const v = snap.signed.meta['targets.json'].version;
    // The file named N.targets.json now holds the (validly signed) targets of publish N-1.
    await sim.writeServed(
      `metadata/${v}.targets.json`,
      await readFile(join(sim.served, 'metadata', `${v - 1}.targets.json`)),
    );
    await refused(app, 'METADATA_INVALID');
  });
});

describe('endless data and slow retrieval', () => {
  test('timestamp.json that never ends → DOWNLOAD_TOO_LARGE', async () => {
    const app = await fresh();
    sim.attack(/timestamp\.json$/, { kind: 'endless' });
    await refused(app, 'DOWNLOAD_TOO_LARGE');
  });
  test('targets metadata that never ends → DOWNLOAD_TOO_LARGE', async () => {
    const app = await fresh();
    sim.attack(/\d+\.targets\.json$/, { kind: 'endless' });
    await refused(app, 'DOWNLOAD_TOO_LARGE');
  });
  test('an archive that never ends → DOWNLOAD_TOO_LARGE', async () => {
    const app = await fresh();
    sim.attack(ARCHIVE, { kind: 'endless' });
    sim.attack(PATCH, { kind: 'endless' });
    await refused(app, 'DOWNLOAD_TOO_LARGE');
  });
  test('one byte per period longer than the stall timeout → DOWNLOAD_STALLED', async () => {
    const app = await fresh();
    sim.attack(ARCHIVE, { kind: 'trickle', intervalMs: 1000 });
    sim.attack(PATCH, { kind: 'trickle', intervalMs: 1000 });
    await refused(app, 'DOWNLOAD_STALLED');
  });
  test('one byte just often enough to dodge the stall timeout → cut off by the throughput floor', async () => {
    const app = await fresh();
    sim.attack(ARCHIVE, { kind: 'trickle', intervalMs: 100 });
    sim.attack(PATCH, { kind: 'trickle', intervalMs: 100 });
    await refused(app, 'DOWNLOAD_STALLED');
  });
});

describe('threshold', () => {
  /** Root 2 (signed by the root key) raising the targets threshold to 2 and listing a second targets key. */
  async function rootWithTargetsThreshold2(secondKeyid: string, publicHex: string) {
    await sim.writeServed(
      'metadata/2.root.json',
      await readFile(join(sim.served, 'metadata', '1.root.json')),
    );
    await sim.resign(
      '2.root.json',
      (s) => {
        s.version = 2;
        s.keys[secondKeyid] = { keytype: 'ed25519', scheme: 'ed25519', keyval: { public: publicHex } };
        s.roles.targets.keyids.push(secondKeyid);
        s.roles.targets.threshold = 2;
      },
      ['root'],
    );
  }

  test('targets signed by one key where root requires two → METADATA_SIGNATURE_INVALID', async () => {
    const app = await fresh();
    const second = sim.attackerKey();
    await rootWithTargetsThreshold2(second.keyid, second.publicHex);
    await sim.forge({ targets: { signers: ['targets'] } });
    await refused(app, 'METADATA_SIGNATURE_INVALID');
  });

  test('the same key counted twice does not meet a threshold of two → METADATA_SIGNATURE_INVALID', async () => {
    const app = await fresh();
    const second = sim.attackerKey();
    await rootWithTargetsThreshold2(second.keyid, second.publicHex);
    await sim.forge({ targets: { signers: ['targets', 'targets'] } });
    await refused(app, 'METADATA_SIGNATURE_INVALID');
  });

  test('a new root signed only by a key the old root does not trust → METADATA_SIGNATURE_INVALID', async () => {
    const app = await fresh();
    await sim.writeServed(
      'metadata/2.root.json',
      await readFile(join(sim.served, 'metadata', '1.root.json')),
    );
    await sim.resign('2.root.json', (s) => (s.version = 2), [sim.attackerKey()]);
    await refused(app, 'METADATA_SIGNATURE_INVALID');
  });
});

describe('control: the harness forges valid metadata', () => {
  test('metadata forged with the right keys is accepted (what the attacks above change is what they claim)', async () => {
    const app = await fresh();
    await sim.forge({
      targets: {
        edit: (s) => {
          s.targets['app-9.0.0.tar.gz'] = s.targets['app-1.0.0.tar.gz'];
        },
        signers: ['targets'],
      },
    });
    const info = await app.client.checkForUpdates();
    assert.equal(
      info?.version,
      '9.0.0',
      'with the targets key, the release is trusted: keep that key offline',
    );
  });
});

/** Serves `archive` as release 2.0.0, signed by the real targets key (a key that went rogue), tar hash included. */
async function rogueRelease(tar: Buffer, signedTarSize = tar.length): Promise<void> {
  const archive = gzipSync(tar);
  const hash = sha256(archive);
  await sim.writeServed(`targets/${hash}.app-2.0.0.tar.gz`, archive);
  await sim.forge({
    targets: {
      edit: (s) => {
        const like = structuredClone(s.targets['app-1.1.0.tar.gz']);
        like.length = archive.length;
        like.hashes = { sha256: hash };
        const facts = { tar_size: signedTarSize, tar_hash: sha256(tar) };
        like.custom.tufup = { ...like.custom.tufup, ...facts };
        if (like.custom.tufup.notsotuf)
          like.custom.tufup.notsotuf = { ...like.custom.tufup.notsotuf, ...facts };
        s.targets['app-2.0.0.tar.gz'] = like;
      },
      signers: ['targets'],
    },
  });
}

describe('malicious archives signed by a legitimate key (defence in depth)', () => {
  const cases: [string, RawMember[], ErrorCode][] = [
    ['path traversal ../evil', [{ name: '../evil', data: 'x' }], 'ARCHIVE_UNSAFE'],
    ['absolute path', [{ name: '/tmp/notsotuf-evil', data: 'x' }], 'ARCHIVE_UNSAFE'],
    ['symlink escape', [{ name: 'link', type: '2', linkname: '../../..' }], 'ARCHIVE_UNSAFE'],
    ['hardlink escape', [{ name: 'h', type: '1', linkname: '/etc/passwd' }], 'ARCHIVE_UNSAFE'],
    ['character device', [{ name: 'tty', type: '3' }], 'ARCHIVE_UNSAFE'],
    [
      'duplicate entries',
      [
        { name: 'VERSION', data: '2.0.0\n' },
        { name: 'VERSION', data: 'evil\n' },
      ],
      'ARCHIVE_UNSAFE',
    ],
  ];
  for (const [name, members, code] of cases) {
    test(`${name} → ${code}, nothing outside the staging directory`, async () => {
      const app = await fresh();
      await rogueRelease(rawTar(members));
      await refused(app, code);
      assert.equal(existsSync(join(app.installDir, '..', 'evil')), false);
      assert.equal(existsSync('/tmp/notsotuf-evil'), false);
    });
  }

  test('a tar bomb beyond the signed tar_size → refused before it is written out', async () => {
    const app = await fresh();
    const big = rawTar([
      { name: 'VERSION', data: '2.0.0\n' },
      { name: 'zeros', data: Buffer.alloc(8 << 20) },
    ]);
    await rogueRelease(big, 64 * 1024);
    await refused(app, 'TARGET_FILE_MISMATCH');
  });
});

describe('malicious patches signed by a legitimate key', () => {
  test('a patch with absurd lengths is rejected and the update falls back to the verified archive', async () => {
    const app = await fresh();
    const real = await servedTarget(PATCH);
    const evil = Buffer.from(real);
    // Keep the magic and header layout, make every length field after it enormous.
    evil.fill(0xff, 16, Math.min(72, evil.length));
    const hash = sha256(evil);
    await sim.writeServed(`targets/${hash}.app-1.1.0.patch`, evil);
    await sim.forge({
      targets: {
        edit: (s) => {
          s.targets['app-1.1.0.patch'].length = evil.length;
          s.targets['app-1.1.0.patch'].hashes = { sha256: hash };
        },
        signers: ['targets'],
      },
    });
    const result = await app.client.update();
    assert.equal(result?.download.method, 'full');
    assert.equal(await readFile(join(app.installDir, 'VERSION'), 'utf8'), '1.1.0\n');
  });
});

describe('local tampering between runs', () => {
  test('the cached archive edited on disk: not used as a patch base; the full archive is verified instead', async () => {
    const app = await fresh();
    await writeFile(join(app.cacheDir, 'targets', 'app-1.0.0.tar.gz'), 'edited');
    const result = await app.client.update();
    assert.equal(result?.download.method, 'full');
    assert.equal(await readFile(join(app.installDir, 'VERSION'), 'utf8'), '1.1.0\n');
  });

  test("the metadata cache replaced by an attacker's root and metadata: the bundled root decides → refused", async () => {
    const app = await fresh();
    await app.client.checkForUpdates();
    const evil = sim.attackerKey();
    // The attacker's root, listing only its key for every role, signed by itself.
    const cachedRoot = join(app.cacheDir, 'metadata', 'root.json');
    const root = JSON.parse(await readFile(cachedRoot, 'utf8'));
    root.signed.version = 7;
    root.signed.keys = {
      [evil.keyid]: { keytype: 'ed25519', scheme: 'ed25519', keyval: { public: evil.publicHex } },
    };
    for (const role of Object.values(root.signed.roles) as { keyids: string[] }[]) role.keyids = [evil.keyid];
    const { canonicalize } = await import('@tufjs/canonical-json');
    const { signHex } = await import('../../src/tuf/ed25519.js');
    root.signatures = [
      { keyid: evil.keyid, sig: signHex(evil.privateKey, Buffer.from(canonicalize(root.signed))) },
    ];
    await writeFile(cachedRoot, JSON.stringify(root));
    // And a server whose metadata the attacker signs.
    await sim.forge({
      targets: {
        edit: (s) => {
          s.targets['app-9.0.0.tar.gz'] = s.targets['app-1.0.0.tar.gz'];
        },
        signers: [evil],
      },
      snapshot: { signers: [evil] },
      timestamp: { signers: [evil] },
    });
    await refused(app, 'METADATA_SIGNATURE_INVALID');
  });
});

describe('key compromise and recovery', () => {
  test('a stolen timestamp key fast-forwards clients; a new root rotates it out; the old key is then refused', async () => {
    const own = await startSimulator(join(work, 'rotation'), [
      { version: '1.0.0', files: appFiles('1.0.0') },
      { version: '1.1.0', files: appFiles('1.1.0') },
    ]);
    try {
      const app = await own.install('1.0.0');
      // The thief signs a timestamp far in the future of the version sequence: clients accept it (the key is valid).
      const stolen = await (async () => {
        const { readPrivateKey } = await import('../../src/tuf/key-pair-files.js');
        const m = await readPrivateKey(own.repo.keysDir, 'timestamp');
        return { keyid: m.keyid, privateKey: m.privateKey };
      })();
      await own.resign('timestamp.json', (s) => (s.version += 1000), [stolen]);
      assert.ok(await app.client.checkForUpdates());

      // The publisher rotates the timestamp key (root 2, signed by the old and new root keys) and publishes.
      await (await own.repo.open()).replaceKey('timestamp', 'timestamp-2');
      await own.sync();
      const info = await app.client.checkForUpdates();
      assert.equal(
        info?.version,
        '1.1.0',
        'the client followed root 2 and accepted the lower timestamp version',
      );

      // The thief's key no longer counts, whatever version it claims.
      await own.resign('timestamp.json', (s) => (s.version += 5000), [stolen]);
      await refused(app, 'METADATA_SIGNATURE_INVALID', () => app.client.checkForUpdates());
    } finally {
      await own.close();
    }
  });
});
