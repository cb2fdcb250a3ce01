#!/usr/bin/env node
// The main job: a whole release cycle through the real CLI and client, in a temp directory, printing each step.
// Publisher: keys, repository, release 1.0.0, release 1.1.0 with a patch. Server: `notsotuf serve` on 127.0.0.1.
// Client: an app installed at 1.0.0 checks, downloads the patch, rebuilds, verifies and installs 1.1.0; the
// installed app then runs and prints its new version. Exits non-zero if any step fails.
import { spawn, spawnSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const dist = new URL('../dist/', import.meta.url);
const cli = new URL('cli/main.js', dist).pathname;
const work = await mkdtemp(join(tmpdir(), 'notsotuf-demo-'));
const env = { ...process.env, NOTSOTUF_PASSPHRASE: 'demo passphrase (use a real one)' };
const APP = 'demo_app';

function fail(message) {
  console.error(`\ndemo failed at: ${message}`);
  process.exitCode = 1;
  throw new Error(message);
}

/** Runs the CLI, printing the command line, its output and how long it took. */
function step(title, args) {
  console.log(`\n$ notsotuf ${args.join(' ')}\n  # ${title}`);
  const started = Date.now();
  const r = spawnSync(process.execPath, [cli, ...args], {
    cwd: work,
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  process.stdout.write(r.stdout);
  console.log(`  (${Date.now() - started} ms, exit ${r.status})`);
  if (r.status !== 0) fail(title);
  return r.stdout;
}

async function writeBundle(version) {
  const dir = join(work, `bundle-${version}`);
  await mkdir(join(dir, 'bin'), { recursive: true });
  await writeFile(join(dir, 'bin', 'hello'), `#!/bin/sh\necho "hello from ${APP} ${version}"\n`, {
    mode: 0o755,
  });
  await writeFile(join(dir, 'VERSION'), `${version}\n`);
  // Mostly unchanged data between releases, so the patch is much smaller than the archive.
  // Pseudo-random bytes (a fixed LCG), so the archive does not compress away.
  const data = Buffer.alloc(512 * 1024);
  let x = 12345;
  for (let i = 0; i < data.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    data[i] = x >>> 24;
  }
  data.write(`release ${version}`, 4096);
  await writeFile(join(dir, 'data.bin'), data);
  return dir;
}

/** Starts `notsotuf serve` and resolves with its base URL once it listens. */
function serve(repoDir) {
  console.log(`\n$ notsotuf serve ${repoDir} --json\n  # serve the repository on 127.0.0.1`);
  const child = spawn(process.execPath, [cli, 'serve', repoDir, '--json'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let text = '';
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      text += line;
      try {
        const { url } = JSON.parse(text);
        console.log(`  serving at ${url}`);
        resolve({ url, stop: () => child.kill('SIGTERM') });
      } catch {
        // not complete JSON yet
      }
    });
    child.on('exit', (code) => reject(new Error(`notsotuf serve exited with ${code}`)));
  });
}

console.log(`notsotuf demo in ${work}`);
let server;
try {
  step('create keys (encrypted), signed metadata and notsotuf.json', ['init', '--app', APP]);
  step('publish release 1.0.0', [
    'release',
    'add',
    await writeBundle('1.0.0'),
    '--version',
    '1.0.0',
    '--meta',
    '{"changes":["first release"]}',
  ]);
  step('publish release 1.1.0 (with a patch from 1.0.0)', [
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

  const repoDir = join(work, 'repository');
  server = await serve(repoDir);

  // What an installer does: unpack release 1.0.0 into the install dir, keep its archive in the client cache (the
  // base of the next patch) and bundle the repository's root.json as the trust anchor.
  const { extractTar, gunzipToFile } = await import(new URL('archive/index.js', dist).href);
  const installDir = join(work, 'installed', APP);
  const cacheDir = join(work, 'installed', 'cache');
  const targets = JSON.parse(await readFile(join(repoDir, 'metadata', 'targets.json'), 'utf8')).signed
    .targets;
  const archiveName = `${APP}-1.0.0.tar.gz`;
  const published = join(repoDir, 'targets', `${targets[archiveName].hashes.sha256}.${archiveName}`);
  await mkdir(join(cacheDir, 'targets'), { recursive: true });
  await gunzipToFile(published, join(work, 'installer.tar'));
  await extractTar(join(work, 'installer.tar'), installDir);
  await copyFile(published, join(cacheDir, 'targets', archiveName));
  await copyFile(join(repoDir, 'metadata', '1.root.json'), join(work, 'installed', 'root.json'));
  console.log(`\n# installed ${APP} 1.0.0 into ${installDir}`);
  const run = () => spawnSync(join(installDir, 'bin', 'hello'), { encoding: 'utf8' }).stdout.trim();
  console.log(`$ ${APP}/bin/hello\n${run()}`);

  const clientArgs = [
    '--app',
    APP,
    '--current-version',
    '1.0.0',
    '--install-dir',
    installDir,
    '--cache-dir',
    cacheDir,
    '--metadata-url',
    `${server.url}/metadata/`,
    '--targets-url',
    `${server.url}/targets/`,
    '--trusted-root',
    join(work, 'installed', 'root.json'),
  ];
  step('the installed app checks for an update', ['client', 'check', ...clientArgs]);
  step('download the patch, rebuild and verify the new archive, install it', [
    'client',
    'update',
    ...clientArgs,
  ]);

  const after = run();
  console.log(`\n$ ${APP}/bin/hello\n${after}`);
  if (after !== `hello from ${APP} 1.1.0`) fail('the installed app does not print 1.1.0');
  console.log(
    '\ndemo finished: published 1.0.0 and 1.1.0, served them, and updated an installed 1.0.0 to 1.1.0',
  );
} catch (err) {
  if (!process.exitCode) {
    console.error(err);
    process.exitCode = 1;
  }
} finally {
  server?.stop();
  if (!process.env.NOTSOTUF_DEMO_KEEP) await rm(work, { recursive: true, force: true });
}
