/**
 * A real S3-compatible server for tests: OpenStack Swift (Debian's swift-proxy, swift-account, swift-container,
 * swift-object) with its s3api middleware and tempauth, plus memcached, as one node on 127.0.0.1 with every config,
 * ring and device in a temp dir. Started per test file; `stop()` ends exactly the processes it started, by PID.
 * When the packages are missing it says so (the caller skips with that reason); `.ci/run` installs them.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SwiftServer {
  /** The S3 endpoint, e.g. `http://127.0.0.1:41234`. */
  readonly endpoint: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** What each server wrote, for a failing test's message. */
  logs(): string;
  stop(): Promise<void>;
}

const BINARIES = [
  '/usr/bin/swift-proxy-server',
  '/usr/bin/swift-account-server',
  '/usr/bin/swift-container-server',
  '/usr/bin/swift-object-server',
  '/usr/bin/swift-ring-builder',
  '/usr/bin/memcached',
];

/** Why Swift cannot run here, or false when it can. */
export function swiftMissing(): string | false {
  const missing = BINARIES.filter((b) => !existsSync(b));
  if (missing.length > 0) {
    return `OpenStack Swift is not installed (${missing.join(', ')}): apt-get install -y swift-proxy swift-account swift-container swift-object memcached`;
  }
  if (!existsSync('/etc/swift/swift.conf'))
    return '/etc/swift/swift.conf is missing (the swift package writes it)';
  return false;
}

/**
 * Whether the servers behind the proxy answer: creates and deletes a container through Swift's native API (the
 * tempauth user of PROXY_CONF). The proxy's healthcheck alone answers before that; on a busy machine a container
 * PUT right after it got 503s for long enough that the S3 SDK gave up creating the bucket.
 */
async function servesRequests(endpoint: string): Promise<string | true> {
  try {
    const auth = await fetch(`${endpoint}/auth/v1.0`, {
      headers: { 'X-Auth-User': 'test:tester', 'X-Auth-Key': 'testing' },
    });
    const token = auth.headers.get('x-auth-token');
    const storage = auth.headers.get('x-storage-url');
    if (!auth.ok || !token || !storage) return `auth answered ${auth.status}`;
    for (const method of ['PUT', 'DELETE']) {
      const r = await fetch(`${storage}/notsotuf-warm-up`, { method, headers: { 'X-Auth-Token': token } });
      // 404 on DELETE: the PUT's container is not listed yet; the servers answer, which is all this checks.
      if (!r.ok && !(method === 'DELETE' && r.status === 404))
        return `${method} container answered ${r.status}`;
    }
    return true;
  } catch (err) {
    return String(err);
  }
}

/** A port free on 127.0.0.1 right now (for servers the tests start). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

const SERVER_CONF = (dir: string, port: number, kind: 'account' | 'container' | 'object') => `[DEFAULT]
bind_ip = 127.0.0.1
bind_port = ${port}
workers = 0
devices = ${join(dir, 'srv')}
mount_check = false
disable_fallocate = true
swift_dir = ${dir}
log_level = WARNING

[pipeline:main]
pipeline = ${kind}-server

[app:${kind}-server]
use = egg:swift#${kind}
`;

const PROXY_CONF = (dir: string, port: number, memcachePort: number) => `[DEFAULT]
bind_ip = 127.0.0.1
bind_port = ${port}
workers = 0
swift_dir = ${dir}
log_level = WARNING

[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck cache s3api tempauth slo proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true

[filter:catch_errors]
use = egg:swift#catch_errors

[filter:gatekeeper]
use = egg:swift#gatekeeper

[filter:healthcheck]
use = egg:swift#healthcheck

[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:${memcachePort}

[filter:s3api]
use = egg:swift#s3api

[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = testing .admin

# s3api builds multipart uploads (files over the S3 store's 8 MiB part size) as static large objects: without
# slo after the auth middleware it answers them 501 NotImplemented.
[filter:slo]
use = egg:swift#slo
`;

/** Starts memcached and the four Swift servers; resolves once the proxy answers and a container can be made. */
export async function startSwift(): Promise<SwiftServer> {
  const dir = await mkdtemp(join(tmpdir(), 'notsotuf-swift-'));
  await mkdir(join(dir, 'srv', 'd1'), { recursive: true });
  const [proxyPort, accountPort, containerPort, objectPort, memcachePort] = await Promise.all(
    Array.from({ length: 5 }, freePort),
  );
  const ports = { account: accountPort!, container: containerPort!, object: objectPort! };
  for (const [kind, port] of Object.entries(ports)) {
    const builder = join(dir, `${kind}.builder`);
    execFileSync('/usr/bin/swift-ring-builder', [builder, 'create', '0', '1', '1'], { stdio: 'ignore' });
    execFileSync('/usr/bin/swift-ring-builder', [builder, 'add', `r1z1-127.0.0.1:${port}/d1`, '1'], {
      stdio: 'ignore',
    });
    // rebalance exits 1 with a warning on a one-device ring; the ring is written all the same.
    try {
      execFileSync('/usr/bin/swift-ring-builder', [builder, 'rebalance'], { stdio: 'ignore' });
    } catch {}
    await writeFile(join(dir, `${kind}-server.conf`), SERVER_CONF(dir, port, kind as 'account'));
  }
  await writeFile(join(dir, 'proxy-server.conf'), PROXY_CONF(dir, proxyPort!, memcachePort!));

  const children: ChildProcess[] = [];
  const output: string[] = [];
  const start = (name: string, command: string, args: string[]) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (d: Buffer) => output.push(`[${name}] ${d}`));
    child.stderr?.on('data', (d: Buffer) => output.push(`[${name}] ${d}`));
    children.push(child);
  };
  start('memcached', '/usr/bin/memcached', [
    '-l',
    '127.0.0.1',
    '-p',
    String(memcachePort),
    '-U',
    '0',
    '-u',
    'root',
  ]);
  for (const kind of ['account', 'container', 'object'] as const) {
    start(kind, `/usr/bin/swift-${kind}-server`, [join(dir, `${kind}-server.conf`)]);
  }
  start('proxy', '/usr/bin/swift-proxy-server', [join(dir, 'proxy-server.conf')]);

  const stop = async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            const timer = setTimeout(() => c.kill('SIGKILL'), 5000);
            c.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
          }),
      ),
    );
    await rm(dir, { recursive: true, force: true });
  };
  const endpoint = `http://127.0.0.1:${proxyPort}`;
  let lastProblem = 'the healthcheck never answered';
  const deadline = Date.now() + 120_000;
  for (;;) {
    const ok = await fetch(`${endpoint}/healthcheck`)
      .then((r) => r.ok)
      .catch(() => false);
    const serving = ok ? await servesRequests(endpoint) : 'healthcheck not answering';
    if (serving === true) break;
    lastProblem = serving;
    const dead = children.find((c) => c.exitCode !== null);
    if (dead || Date.now() > deadline) {
      await stop();
      throw new Error(`Swift did not start (${lastProblem}):\n${output.join('')}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    endpoint,
    accessKeyId: 'test:tester',
    secretAccessKey: 'testing',
    logs: () => output.join(''),
    stop,
  };
}
