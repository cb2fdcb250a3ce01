#!/usr/bin/env node
// The main job until the client lands: the publisher half of a release cycle, run through the real CLI in a
// temp directory, printing each step. Exits non-zero if any step fails.
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const cli = new URL('../dist/cli/main.js', import.meta.url).pathname;
const work = await mkdtemp(join(tmpdir(), 'notsotuf-demo-'));
const env = { ...process.env, NOTSOTUF_PASSPHRASE: 'demo passphrase (use a real one)' };

function step(title, args) {
  console.log(`\n$ notsotuf ${args.join(' ')}    # ${title}`);
  const started = Date.now();
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: work, env, encoding: 'utf8' });
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  console.log(`  (${Date.now() - started} ms, exit ${r.status})`);
  if (r.status !== 0) {
    console.error(`demo failed at: ${title}`);
    process.exit(1);
  }
}

async function writeBundle(version) {
  const dir = join(work, `bundle-${version}`);
  await mkdir(join(dir, 'bin'), { recursive: true });
  await writeFile(join(dir, 'bin', 'hello'), `#!/bin/sh\necho "hello from demo_app ${version}"\n`, {
    mode: 0o755,
  });
  await writeFile(join(dir, 'VERSION'), `${version}\n`);
  await writeFile(join(dir, 'data.bin'), Buffer.alloc(256 * 1024, version));
  return dir;
}

console.log(`notsotuf demo in ${work}`);
try {
  step('create keys (encrypted), signed metadata and notsotuf.json', ['init', '--app', 'demo_app']);
  step('publish release 1.0.0', [
    'release',
    'add',
    await writeBundle('1.0.0'),
    '--version',
    '1.0.0',
    '--meta',
    '{"changes":["first release"]}',
  ]);
  step('publish release 1.1.0', [
    'release',
    'add',
    await writeBundle('1.1.0'),
    '--version',
    '1.1.0',
    '--meta',
    '{"changes":["greets better"]}',
  ]);
  step('show the repository', ['status']);
  step('load it as a client would and check every target', ['verify']);
  console.log('\ndemo finished: the repository in', join(work, 'repository'), 'is ready to be served');
} finally {
  if (!process.env.NOTSOTUF_DEMO_KEEP) await rm(work, { recursive: true, force: true });
}
