import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makeBundle, tempDir } from './files.js';
import { assertExit, CLI_PATH, cli, runCli } from './run-cli.js';

describe('notsotuf serve (a real process on 127.0.0.1)', () => {
  let cwd: string;
  let child: ReturnType<typeof spawn>;
  let base: string;

  before(async () => {
    cwd = await tempDir();
    await cli(['init', '--app', 'demo_app', '--unencrypted'], { cwd });
    await cli(['release', 'add', await makeBundle(join(cwd, 'b1'), '1.0.0'), '--version', '1.0.0'], { cwd });
    await writeFile(join(cwd, 'outside-secret.txt'), 'not served\n');
    child = spawn(process.execPath, [CLI_PATH, 'serve', join(cwd, 'repository'), '--json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let text = '';
    for await (const chunk of child.stdout!) {
      text += String(chunk);
      if (text.trim().endsWith('}')) break;
    }
    const info = JSON.parse(text) as { url: string; metadataUrl: string };
    assert.match(info.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    base = info.url;
  });

  after(async () => {
    child.kill('SIGTERM');
    await once(child, 'close');
  });

  test('timestamp.json must be revalidated; versioned metadata and hashed targets are immutable', async () => {
    const ts = await fetch(`${base}/metadata/timestamp.json`);
    assert.equal(ts.status, 200);
    assert.equal(ts.headers.get('cache-control'), 'no-cache');
    assert.equal(ts.headers.get('content-type'), 'application/json');
    assert.deepEqual(
      Buffer.from(await ts.arrayBuffer()),
      await readFile(join(cwd, 'repository', 'metadata', 'timestamp.json')),
    );
    const root = await fetch(`${base}/metadata/1.root.json`);
    assert.equal(root.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    await root.arrayBuffer();
  });

  test('byte ranges (resumed downloads), 416 past the end, 404 for missing and escaping paths', async () => {
    const whole = Buffer.from(await (await fetch(`${base}/metadata/root.json`)).arrayBuffer());
    const part = await fetch(`${base}/metadata/root.json`, { headers: { Range: 'bytes=10-' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), `bytes 10-${whole.length - 1}/${whole.length}`);
    assert.deepEqual(Buffer.from(await part.arrayBuffer()), whole.subarray(10));
    const past = await fetch(`${base}/metadata/root.json`, {
      headers: { Range: `bytes=${whole.length + 5}-` },
    });
    assert.equal(past.status, 416);
    await past.arrayBuffer();
    for (const path of ['/metadata/nope.json', '/../outside-secret.txt', '/%2e%2e/outside-secret.txt']) {
      const r = await fetch(`${base}${path}`);
      assert.equal(r.status, 404, path);
      assert.doesNotMatch(await r.text(), /not served/);
    }
  });

  test('a busy port and a missing directory each get their own message (exit 1)', async () => {
    const port = new URL(base).port;
    const busy = await runCli(['serve', join(cwd, 'repository'), '--port', port], { cwd });
    assertExit(busy, 1, 'serve on a busy port');
    assert.match(
      busy.stderr,
      new RegExp(`error IO_ERROR: Cannot listen on 127\\.0\\.0\\.1:${port}: the address is in use`),
    );
    assert.match(busy.stderr, /hint: Pick another --port/);
    const missing = await runCli(['serve', join(cwd, 'no-such-dir')], { cwd });
    assertExit(missing, 1, 'serve a missing directory');
    assert.match(missing.stderr, /error IO_ERROR: Cannot serve .*no-such-dir: it is not a directory/);
    assert.doesNotMatch(missing.stderr, /port|:0\b/);
  });
});
