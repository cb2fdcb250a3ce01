/**
 * A TUF repository with delegated targets roles, for the client cases that notsotuf's own publisher never makes
 * (it writes top-level roles only) but that the TUF conformance suite checks: unusual role names and delegation
 * graphs. Metadata is plain JSON signed with real Ed25519 keys (consistent snapshots, every role at version 1),
 * served over real HTTP on 127.0.0.1 by a server that maps the raw request path to a file of that exact name, so
 * a request must be URL-quoted correctly to find its file; every request path is recorded as sent.
 */
import { createHash, type KeyObject } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { canonicalize } from '@tufjs/canonical-json';
import { generateEd25519, signHex } from '../../src/tuf/ed25519.js';

export interface Delegation {
  readonly delegator: string;
  readonly role: string;
  /** Names of the keys the delegator trusts for `role` (made on first use). */
  readonly keys: readonly string[];
  readonly paths?: readonly string[];
  readonly terminating?: boolean;
  readonly threshold?: number;
}

export interface DelegationRepoSpec {
  readonly delegations: readonly Delegation[];
  /** Role → the key names that actually sign it (default: the keys its first delegator names). */
  readonly signers?: Readonly<Record<string, readonly string[]>>;
  /** Role → target path → contents. */
  readonly targets?: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

export interface ServedDelegationRepo {
  readonly url: string;
  readonly metadataUrl: string;
  readonly targetsUrl: string;
  /** The root.json a client starts from. */
  readonly trustedRoot: string;
  /** Raw request paths, as sent. */
  readonly requests: string[];
  close(): Promise<void>;
}

interface Key {
  readonly keyid: string;
  readonly privateKey: KeyObject;
  readonly json: Record<string, unknown>;
}

const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');
const EXPIRES = '2099-01-01T00:00:00Z';
const TOP_LEVEL = ['root', 'targets', 'snapshot', 'timestamp'] as const;

function makeKey(): Key {
  const { publicHex, privateKey } = generateEd25519();
  const json = { keytype: 'ed25519', scheme: 'ed25519', keyval: { public: publicHex } };
  return { keyid: sha256(canonicalize(json)), privateKey, json };
}

function signed(body: Record<string, unknown>, keys: readonly Key[]): Buffer {
  const bytes = Buffer.from(canonicalize(body));
  const signatures = keys.map((k) => ({ keyid: k.keyid, sig: signHex(k.privateKey, bytes) }));
  return Buffer.from(JSON.stringify({ signed: body, signatures }, null, 1));
}

/** Writes the repository under `dir` (`metadata/`, `targets/`) and serves it. Close it when done. */
export async function serveDelegationRepo(
  dir: string,
  spec: DelegationRepoSpec,
): Promise<ServedDelegationRepo> {
  const keys = new Map<string, Key>();
  const key = (name: string) => keys.get(name) ?? keys.set(name, makeKey()).get(name)!;
  const meta = join(dir, 'metadata');
  const targetsDir = join(dir, 'targets');
  await mkdir(meta, { recursive: true });
  await mkdir(targetsDir, { recursive: true });
  const common = { spec_version: '1.0.31', version: 1, expires: EXPIRES };

  // Targets roles, top-level first: their delegations and their target files.
  const roles = new Map<string, Record<string, unknown>>([['targets', {}]]);
  for (const d of spec.delegations) if (!roles.has(d.role)) roles.set(d.role, {});
  const signers = (role: string) =>
    role === 'targets'
      ? [key('targets')]
      : (spec.signers?.[role] ?? spec.delegations.find((d) => d.role === role)!.keys).map(key);
  const snapshotMeta: Record<string, unknown> = {};
  for (const role of roles.keys()) {
    const targets: Record<string, unknown> = {};
    for (const [path, content] of Object.entries(spec.targets?.[role] ?? {})) {
      const hash = sha256(content);
      targets[path] = { length: Buffer.byteLength(content), hashes: { sha256: hash } };
      const slash = path.lastIndexOf('/');
      const file = join(targetsDir, path.slice(0, slash + 1), `${hash}.${path.slice(slash + 1)}`);
      await mkdir(join(file, '..'), { recursive: true });
      await writeFile(file, content);
    }
    const delegations = spec.delegations.filter((d) => d.delegator === role);
    const body: Record<string, unknown> = { _type: 'targets', ...common, targets };
    if (delegations.length > 0) {
      body['delegations'] = {
        keys: Object.fromEntries(delegations.flatMap((d) => d.keys.map((n) => [key(n).keyid, key(n).json]))),
        roles: delegations.map((d) => ({
          name: d.role,
          keyids: d.keys.map((n) => key(n).keyid),
          threshold: d.threshold ?? 1,
          terminating: d.terminating ?? false,
          paths: d.paths ?? ['*'],
        })),
      };
    }
    await writeFile(join(meta, `1.${encodeURIComponent(role)}.json`), signed(body, signers(role)));
    snapshotMeta[`${role}.json`] = { version: 1 };
  }

  const root = signed(
    {
      _type: 'root',
      ...common,
      consistent_snapshot: true,
      keys: Object.fromEntries(TOP_LEVEL.map((r) => [key(r).keyid, key(r).json])),
      roles: Object.fromEntries(TOP_LEVEL.map((r) => [r, { keyids: [key(r).keyid], threshold: 1 }])),
    },
    [key('root')],
  );
  await writeFile(join(meta, '1.root.json'), root);
  const snapshot = signed({ _type: 'snapshot', ...common, meta: snapshotMeta }, [key('snapshot')]);
  await writeFile(join(meta, '1.snapshot.json'), snapshot);
  const timestamp = { _type: 'timestamp', ...common, meta: { 'snapshot.json': { version: 1 } } };
  await writeFile(join(meta, 'timestamp.json'), signed(timestamp, [key('timestamp')]));

  const requests: string[] = [];
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    requests.push(path);
    // No decoding: the file name is the path segment as sent, and `..` never leaves the served directory.
    const segments = path.split('/').filter((s) => s !== '');
    if (segments.some((s) => s === '.' || s === '..')) {
      res.writeHead(404).end();
      return;
    }
    readFile(join(dir, ...segments)).then(
      (body) => res.writeHead(200, { 'content-length': String(body.length) }).end(body),
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    metadataUrl: `${url}/metadata/`,
    targetsUrl: `${url}/targets/`,
    trustedRoot: join(meta, '1.root.json'),
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
