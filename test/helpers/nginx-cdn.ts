/**
 * A real CDN for tests: nginx (Debian's /usr/sbin/nginx, package nginx-light) as a caching reverse proxy on
 * 127.0.0.1 in front of an upstream HTTP server, with its config, cache, temp files, pid file and logs in a temp
 * dir. It runs in the foreground (`daemon off;`) as a child of the test; `stop()` ends that process (the master,
 * which takes its worker with it) by PID. Every answer carries `X-Cache-Status` (HIT, MISS, EXPIRED, …) and the
 * access log records it per request, so tests can tell what the cache served.
 * Also a plain pass-through proxy that can hold chosen requests, to stop a client mid-refresh.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './swift-server.js';

export const NGINX = '/usr/sbin/nginx';

/** Why nginx cannot run here, or false when it can. */
export function nginxMissing(): string | false {
  return existsSync(NGINX) ? false : `nginx is not installed (${NGINX}): apt-get install -y nginx-light`;
}

export interface CdnRequest {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  /** nginx's $upstream_cache_status: HIT, MISS, EXPIRED, BYPASS, … ('-' when the cache was not consulted). */
  readonly cache: string;
}

export interface NginxCdn {
  /** e.g. `http://127.0.0.1:41234`; a path here is proxied to the same path upstream. */
  readonly url: string;
  /** Every request answered so far, in order (from the access log). */
  requests(): Promise<CdnRequest[]>;
  /** What nginx wrote to stderr and its error log, for a failing test's message. */
  logs(): Promise<string>;
  stop(): Promise<void>;
}

export interface NginxCdnOptions {
  /**
   * `proxy_cache_valid` for 200 answers (e.g. `10m`): how long nginx keeps an answer that has no caching headers
   * of its own. Upstream Cache-Control / Expires still take precedence, as nginx does by default.
   */
  readonly cacheValid200?: string;
}

/** Starts nginx caching `upstream` (an `http://host:port` origin); resolves once it answers. */
export async function startNginxCdn(upstream: string, options: NginxCdnOptions = {}): Promise<NginxCdn> {
  const dir = await mkdtemp(join(tmpdir(), 'notsotuf-nginx-'));
  for (const sub of ['cache', 'body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) await mkdir(join(dir, sub));
  const port = await freePort();
  const accessLog = join(dir, 'access.log');
  const errorLog = join(dir, 'error.log');
  // As root, nginx's worker would switch to `nobody`, which cannot use the (0700) temp dir: stay root. As any
  // other user nginx cannot switch and the directive is left out.
  const user = process.getuid?.() === 0 ? 'user root root;\n' : '';
  const conf = `${user}daemon off;
worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log ${errorLog} warn;
events { worker_connections 256; }
http {
  log_format cdn '$request_method $uri $status $upstream_cache_status';
  access_log ${accessLog} cdn;
  client_body_temp_path ${join(dir, 'body')};
  proxy_temp_path ${join(dir, 'proxy')};
  fastcgi_temp_path ${join(dir, 'fastcgi')};
  uwsgi_temp_path ${join(dir, 'uwsgi')};
  scgi_temp_path ${join(dir, 'scgi')};
  proxy_cache_path ${join(dir, 'cache')} levels=1:2 keys_zone=cdn:1m max_size=512m inactive=1h use_temp_path=off;
  server {
    listen 127.0.0.1:${port};
    location = /__cdn_health { access_log off; return 204; }
    location / {
      proxy_pass ${upstream};
      proxy_cache cdn;
      ${options.cacheValid200 ? `proxy_cache_valid 200 ${options.cacheValid200};` : ''}
      add_header X-Cache-Status $upstream_cache_status always;
    }
  }
}
`;
  await writeFile(join(dir, 'nginx.conf'), conf);
  const output: string[] = [];
  const child: ChildProcess = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', errorLog], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d: Buffer) => output.push(d.toString()));
  child.stderr?.on('data', (d: Buffer) => output.push(d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const logs = async () => `${output.join('')}${await readFile(errorLog, 'utf8').catch(() => '')}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    const ok = await fetch(`${url}/__cdn_health`)
      .then((r) => r.status === 204)
      .catch(() => false);
    if (ok) break;
    if (child.exitCode !== null || child.signalCode !== null || i > 100) {
      const message = `nginx did not start:\n${await logs()}`;
      await stop();
      throw new Error(message);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const requests = async (): Promise<CdnRequest[]> =>
    (await readFile(accessLog, 'utf8').catch(() => ''))
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [method = '', path = '', status = '0', cache = '-'] = line.split(' ');
        return { method, path, status: Number(status), cache };
      });
  return { url, requests, logs, stop };
}

export interface HoldProxy {
  readonly url: string;
  /** `METHOD path` of every request, in arrival order. */
  readonly requests: string[];
  /** Holds the next request whose path matches until `release()`; `reached` resolves with its path. */
  hold(match: RegExp): { reached: Promise<string>; release(): void };
  close(): Promise<void>;
}

/** A pass-through HTTP proxy on 127.0.0.1 (streamed, every header kept) that can hold chosen requests. */
export async function startHoldProxy(upstream: string): Promise<HoldProxy> {
  const requests: string[] = [];
  const holds: { match: RegExp; reached: (path: string) => void; released: Promise<void> }[] = [];
  const server = createHttpServer((req, res) => {
    void (async () => {
      const path = req.url ?? '/';
      requests.push(`${req.method} ${path}`);
      const i = holds.findIndex((h) => h.match.test(path));
      if (i >= 0) {
        const [h] = holds.splice(i, 1);
        h!.reached(path);
        await h!.released;
      }
      const up = httpRequest(
        `${upstream}${path}`,
        { method: req.method, headers: { ...req.headers, host: new URL(upstream).host } },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      up.on('error', () => res.destroy());
      req.pipe(up);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    hold(match) {
      let reached!: (path: string) => void;
      let release!: () => void;
      const h = {
        match,
        reached: (p: string) => reached(p),
        released: new Promise<void>((r) => {
          release = r;
        }),
      };
      holds.push(h);
      return { reached: new Promise<string>((r) => (reached = r)), release: () => release() };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
