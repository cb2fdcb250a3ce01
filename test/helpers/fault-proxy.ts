/**
 * A misbehaving server for client tests: a real HTTP proxy on 127.0.0.1 in front of a repository server that,
 * for requests matching a rule, drops the connection mid-body, stalls, sends extra bytes or other bytes, or
 * answers with an error status. Everything else is passed through unchanged (Range requests included).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type Fault =
  /** Sends the headers and this many body bytes, then destroys the connection. */
  | { readonly kind: 'drop-after'; readonly bytes: number }
  /** Sends this many body bytes, then nothing more (the connection stays open). */
  | { readonly kind: 'stall-after'; readonly bytes: number }
  /** Sends the real body followed by these extra bytes (and a matching Content-Length). */
  | { readonly kind: 'append'; readonly extra: Buffer }
  /** Sends other bytes instead of the file. */
  | { readonly kind: 'replace'; readonly body: Buffer }
  | { readonly kind: 'status'; readonly status: number };

export interface FaultRule {
  readonly match: (path: string) => boolean;
  readonly fault: Fault;
  /** How many matching requests get the fault (default 1; Infinity for all). */
  times?: number;
}

export interface FaultProxy {
  readonly url: string;
  /** Every request: path, Range header, and the fault applied if any. */
  readonly requests: { path: string; range?: string; fault?: Fault['kind'] }[];
  close(): Promise<void>;
}

export async function startFaultProxy(upstream: string, rules: FaultRule[]): Promise<FaultProxy> {
  const requests: FaultProxy['requests'] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const path = req.url ?? '/';
      const range = req.headers.range;
      const rule = rules.find((r) => r.match(path) && (r.times ?? 1) > 0);
      requests.push({ path, ...(range ? { range } : {}), ...(rule ? { fault: rule.fault.kind } : {}) });
      if (rule) rule.times = (rule.times ?? 1) - 1;
      const answer = await fetch(upstream + path, { headers: range ? { range } : {} });
      const body = Buffer.from(await answer.arrayBuffer());
      const headers: Record<string, string> = {};
      for (const name of ['content-type', 'content-range', 'accept-ranges', 'cache-control']) {
        const value = answer.headers.get(name);
        if (value) headers[name] = value;
      }
      const fault = rule?.fault;
      if (!fault || answer.status >= 400) {
        res.writeHead(answer.status, { ...headers, 'content-length': String(body.length) });
        res.end(body);
        return;
      }
      switch (fault.kind) {
        case 'status':
          res.writeHead(fault.status).end();
          return;
        case 'append': {
          const all = Buffer.concat([body, fault.extra]);
          res.writeHead(answer.status, { ...headers, 'content-length': String(all.length) });
          res.end(all);
          return;
        }
        case 'replace':
          res.writeHead(answer.status, { ...headers, 'content-length': String(fault.body.length) });
          res.end(fault.body);
          return;
        case 'drop-after':
          res.writeHead(answer.status, { ...headers, 'content-length': String(body.length) });
          res.write(body.subarray(0, fault.bytes), () => {
            setTimeout(() => res.socket?.destroy(), 20);
          });
          return;
        case 'stall-after':
          res.writeHead(answer.status, { ...headers, 'content-length': String(body.length) });
          res.write(body.subarray(0, fault.bytes));
          return;
      }
    })().catch(() => res.socket?.destroy());
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
