// biome-ignore-all lint/suspicious/noExplicitAny: the attacker edits metadata JSON freely
/**
 * A repository simulator for security tests. A real publisher builds a repository (real keys, real signatures);
 * a copy of it is served over real HTTP on 127.0.0.1, and the test plays the attacker who controls that server:
 * it can replace, drop, delay, truncate, extend or trickle any response, edit any metadata file and re-sign it
 * with any key (the publisher's own, as after a key theft, or one of its own), and serve older states.
 */

import { createHash, type KeyObject } from 'node:crypto';
import { cp, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { canonicalize } from '@tufjs/canonical-json';
import { Client } from '../../src/client/client.js';
import type { ClientOptions } from '../../src/client/options.js';
import { generateEd25519, publicHexOf, signHex } from '../../src/tuf/ed25519.js';
import { readPrivateKey } from '../../src/tuf/key-pair-files.js';
import { installArchive, publish, publishedArchive, type ReleaseSpec } from './client-fixtures.js';
import { createTestRepo, snapshotTree, type TestRepo, type TreeSnapshot } from './repo-fixtures.js';

export type Attack =
  /** Other bytes instead of the file. */
  | { readonly kind: 'replace'; readonly body: Buffer }
  | { readonly kind: 'status'; readonly status: number }
  /** The first `bytes` of the file, then the connection is closed. */
  | { readonly kind: 'truncate'; readonly bytes: number }
  /** The file followed by extra bytes (with a matching Content-Length). */
  | { readonly kind: 'extend'; readonly extra: Buffer }
  /** No Content-Length, and bytes that never stop until the client hangs up. */
  | { readonly kind: 'endless' }
  /** One byte every `intervalMs`, forever. */
  | { readonly kind: 'trickle'; readonly intervalMs: number };

interface Rule {
  readonly match: RegExp;
  readonly attack: Attack;
  times: number;
}

/** Someone who can sign: a key of the publisher's keystore (by file name) or a key the attacker made. */
export type SignerSpec = string | { readonly keyid: string; readonly privateKey: KeyObject };

/** One metadata file of a {@link RepoSimulator.forge}: how to edit its `signed` part, and who signs it. */
export interface ForgeStep {
  readonly edit?: (signed: Record<string, any>) => void;
  readonly signers: readonly SignerSpec[];
}

export interface InstalledApp {
  readonly client: Client;
  readonly installDir: string;
  readonly cacheDir: string;
  /** The install directory before anything happened. */
  readonly before: TreeSnapshot;
}

export interface RepoSimulator {
  /** Server root: `metadata/` and `targets/` below it. */
  readonly url: string;
  /** The legitimate publisher's repository. */
  readonly repo: TestRepo;
  /** The directory the server serves (the attacker's copy). */
  readonly served: string;
  /** The root.json an app bundles (version 1). */
  readonly trustedRoot: string;
  /** Paths requested so far. */
  readonly requests: string[];
  /** Applies `attack` to the next `times` requests whose path matches. */
  attack(match: RegExp, attack: Attack, times?: number): void;
  /** Drops every attack rule. */
  calm(): void;
  /** A legitimate publish: the served copy becomes the publisher's repository again. */
  sync(): Promise<void>;
  /** Keeps the served state under a name, to serve it again later (an old, validly signed state). */
  save(name: string): Promise<void>;
  serveSaved(name: string): Promise<void>;
  readMetadata(name: string): Promise<{ signed: Record<string, unknown>; signatures: unknown[] }>;
  /** Edits a served metadata file's `signed` part and replaces its signatures by those of `signers`. */
  resign(
    name: string,
    edit: (signed: Record<string, any>) => void,
    signers: readonly SignerSpec[],
  ): Promise<Buffer>;
  writeServed(path: string, bytes: Buffer | string): Promise<void>;
  /**
   * Publishes edited metadata the way a repository would (consistent snapshots): a new targets version (when
   * `targets` is given), a new snapshot naming it, a new timestamp naming that; each signed by the given keys
   * (snapshot and timestamp by default by the publisher's own keys of those roles).
   */
  forge(steps: { targets?: ForgeStep; snapshot?: ForgeStep; timestamp?: ForgeStep }): Promise<void>;
  /** A fresh key the publisher never trusted. */
  attackerKey(): { keyid: string; privateKey: KeyObject; publicHex: string };
  /** An app installed at `version` from the publisher's archive, with a Client pointed at this server. */
  install(version: string, options?: Partial<ClientOptions>): Promise<InstalledApp>;
  close(): Promise<void>;
}

/** Starts a simulator whose publisher has released `releases` (the served copy starts in sync). */
export async function startSimulator(work: string, releases: readonly ReleaseSpec[]): Promise<RepoSimulator> {
  const repo = await createTestRepo(join(work, 'publisher'));
  await publish(await repo.open(), work, releases);
  const served = join(work, 'served');
  const saved = join(work, 'saved');
  const trustedRoot = join(work, 'bundled-root.json');
  await cp(join(repo.metadataDir, '1.root.json'), trustedRoot);
  const sync = async () => {
    await rm(served, { recursive: true, force: true });
    await cp(repo.repoDir, served, { recursive: true, filter: (src) => !src.endsWith('.lock') });
  };
  await sync();

  const rules: Rule[] = [];
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]!);
    requests.push(path);
    const rule = rules.find((r) => r.times > 0 && r.match.test(path));
    if (rule) rule.times--;
    void respond(res, path, req.headers.range, rule?.attack).catch(() => res.socket?.destroy());
  });
  async function respond(res: ServerResponse, path: string, range: string | undefined, attack?: Attack) {
    const file = join(served, path);
    if (
      path.includes('..') ||
      !(await stat(file).then(
        (s) => s.isFile(),
        () => false,
      ))
    ) {
      res.writeHead(404).end();
      return;
    }
    const body = await readFile(file);
    if (!attack) {
      const from = Number(/^bytes=(\d+)-$/.exec(range ?? '')?.[1] ?? 0);
      if (from > 0 && from < body.length) {
        res.writeHead(206, {
          'content-length': String(body.length - from),
          'content-range': `bytes ${from}-${body.length - 1}/${body.length}`,
        });
        res.end(body.subarray(from));
      } else {
        res.writeHead(200, { 'content-length': String(body.length) }).end(body);
      }
      return;
    }
    switch (attack.kind) {
      case 'replace':
        res.writeHead(200, { 'content-length': String(attack.body.length) }).end(attack.body);
        return;
      case 'status':
        res.writeHead(attack.status).end();
        return;
      case 'truncate':
        res.writeHead(200, { 'content-length': String(body.length) });
        res.write(body.subarray(0, attack.bytes), () => res.socket?.destroy());
        return;
      case 'extend': {
        const all = Buffer.concat([body, attack.extra]);
        res.writeHead(200, { 'content-length': String(all.length) }).end(all);
        return;
      }
      case 'endless': {
        res.writeHead(200);
        const chunk = Buffer.alloc(64 * 1024, 0x7b);
        const pump = () => {
          while (!res.destroyed && res.write(chunk)) {}
          if (!res.destroyed) res.once('drain', pump);
        };
        pump();
        return;
      }
      case 'trickle': {
        res.writeHead(200, { 'content-length': String(body.length) });
        let i = 0;
        const timer = setInterval(() => {
          if (res.destroyed || i >= body.length) {
            clearInterval(timer);
            timers.delete(timer);
            return;
          }
          res.write(body.subarray(i, ++i));
        }, attack.intervalMs);
        timers.add(timer);
        return;
      }
    }
  }
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const keyCache = new Map<string, { keyid: string; privateKey: KeyObject }>();
  const signerOf = async (spec: SignerSpec) => {
    if (typeof spec !== 'string') return spec;
    let key = keyCache.get(spec);
    if (!key) {
      const material = await readPrivateKey(repo.keysDir, spec);
      key = { keyid: material.keyid, privateKey: material.privateKey };
      keyCache.set(spec, key);
    }
    return key;
  };
  let installs = 0;
  const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  const readMetadata = async (name: string) =>
    JSON.parse(await readFile(join(served, 'metadata', name), 'utf8'));
  const writeServed = async (path: string, bytes: Buffer | string) => {
    await mkdir(join(served, path, '..'), { recursive: true });
    await writeFile(join(served, path), bytes);
  };
  const resign = async (
    name: string,
    edit: (signed: Record<string, any>) => void,
    signers: readonly SignerSpec[],
  ) => {
    const path = join(served, 'metadata', name);
    const md = JSON.parse(await readFile(path, 'utf8'));
    edit(md.signed);
    const bytes = Buffer.from(canonicalize(md.signed));
    md.signatures = [];
    for (const spec of signers) {
      const { keyid, privateKey } = await signerOf(spec);
      md.signatures.push({ keyid, sig: signHex(privateKey, bytes) });
    }
    const out = Buffer.from(JSON.stringify(md, null, 1));
    await writeFile(path, out);
    return out;
  };
  /** Copies `<from>.<role>.json` to `<to>.<role>.json` and re-signs it there as version `to`. */
  const nextVersion = async (role: string, from: number, step: ForgeStep) => {
    const to = from + 1;
    await writeServed(
      `metadata/${to}.${role}.json`,
      await readFile(join(served, 'metadata', `${from}.${role}.json`)),
    );
    const bytes = await resign(
      `${to}.${role}.json`,
      (s) => {
        s.version = to;
        step.edit?.(s);
      },
      step.signers,
    );
    return { version: to, length: bytes.length, hashes: { sha256: sha256(bytes) } };
  };

  return {
    url,
    repo,
    served,
    trustedRoot,
    requests,
    attack: (match, attack, times = Number.POSITIVE_INFINITY) => {
      rules.push({ match, attack, times });
    },
    calm: () => {
      rules.length = 0;
    },
    sync,
    save: async (name) => {
      await rm(join(saved, name), { recursive: true, force: true });
      await cp(served, join(saved, name), { recursive: true });
    },
    serveSaved: async (name) => {
      await rm(served, { recursive: true, force: true });
      await cp(join(saved, name), served, { recursive: true });
    },
    readMetadata,
    resign,
    writeServed,
    forge: async (steps) => {
      const ts = await readMetadata('timestamp.json');
      const snapVersion = ts.signed.meta['snapshot.json'].version as number;
      const snap = await readMetadata(`${snapVersion}.snapshot.json`);
      let targetsMeta = snap.signed.meta['targets.json'];
      if (steps.targets) targetsMeta = await nextVersion('targets', targetsMeta.version, steps.targets);
      const snapshotMeta = await nextVersion('snapshot', snapVersion, {
        edit: (s) => {
          s.meta['targets.json'] = targetsMeta;
          steps.snapshot?.edit?.(s);
        },
        signers: steps.snapshot?.signers ?? ['snapshot'],
      });
      await resign(
        'timestamp.json',
        (s) => {
          s.version += 1;
          s.meta['snapshot.json'] = snapshotMeta;
          steps.timestamp?.edit?.(s);
        },
        steps.timestamp?.signers ?? ['timestamp'],
      );
    },
    attackerKey: () => {
      const { privateKey, publicHex } = generateEd25519();
      return { keyid: `${publicHexOf(privateKey)}`.padEnd(64, '0').slice(0, 64), privateKey, publicHex };
    },
    install: async (version, options = {}) => {
      const dir = join(work, `install-${installs++}`);
      const installDir = join(dir, 'app');
      const cacheDir = join(dir, 'cache');
      const archiveName = `app-${version}.tar.gz`;
      await installArchive(await publishedArchive(repo, archiveName), archiveName, installDir, cacheDir);
      const client = new Client({
        appName: 'app',
        currentVersion: version,
        installDir,
        cacheDir,
        metadataUrl: `${url}/metadata/`,
        targetsUrl: `${url}/targets/`,
        trustedRoot: { path: trustedRoot },
        fetch: { retries: 1, retryDelayMs: 5, stallTimeoutMs: 400 },
        ...options,
      });
      return { client, installDir, cacheDir, before: await snapshotTree(installDir) };
    },
    close: async () => {
      for (const t of timers) clearInterval(t);
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
