/**
 * The package an app embeds, as a user gets it: `@notsotuf/client` is built from this checkout's dist
 * (scripts/build-client-package.mjs), packed with `npm pack`, and installed with npm into a fresh `npm init -y`
 * project, which is CommonJS. Then a CommonJS app in that project updates itself from a served repository.
 *
 * This proves the split of issue 19: the client's import closure reaches no publisher module, installing it pulls
 * in neither commander nor the AWS SDK, and CommonJS apps can load the ES-module package.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import {
  buildClientPackage,
  CLIENT_PACKAGE_NAME,
  checkClientImports,
  importClosure,
} from '../../scripts/build-client-package.mjs';
import { tempDir } from '../cli/files.js';
import { assertBuilt, PROJECT_ROOT } from '../cli/run-cli.js';
import {
  appFiles,
  installArchive,
  type PublishedRepo,
  publishedArchive,
  servedRepo,
} from '../helpers/client-fixtures.js';

const run = promisify(execFile);
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
/** What the publisher needs and an app must not ship. */
const PUBLISHER_ONLY = ['commander', '@aws-sdk'];

async function npm(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await run(NPM, args, {
    cwd,
    env: { ...process.env, npm_config_update_notifier: 'false' },
  });
  return stdout;
}

async function treeSize(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

describe('the client package (@notsotuf/client)', () => {
  let work: string;
  let project: string;
  let served: PublishedRepo;

  before(async () => {
    assertBuilt();
    work = await tempDir('notsotuf-client-package-');
    const out = join(work, 'package');
    buildClientPackage(out);
    const packed = (await npm(out, 'pack', '--pack-destination', work, '--json')).trim();
    const tarball = join(work, (JSON.parse(packed) as { filename: string }[])[0]!.filename);
    project = join(work, 'app-project');
    await mkdir(project);
    await npm(project, 'init', '-y');
    // The dependencies come from npm's cache, which `npm ci` of this checkout filled.
    await npm(project, 'install', tarball, '--prefer-offline', '--no-audit', '--no-fund');
    served = await servedRepo(work, [
      { version: '1.0.0', files: appFiles('1.0.0') },
      { version: '1.1.0', files: appFiles('1.1.0', { 'lib/new.txt': 'new in 1.1.0\n' }) },
    ]);
  });

  after(async () => {
    await served?.close();
  });

  it('reaches no publisher module and imports only its declared packages', async () => {
    const { files, packages } = importClosure(join(PROJECT_ROOT, 'dist'), ['client/index.js']);
    assert.ok(files.includes('client/client.js'));
    for (const file of files) assert.doesNotMatch(file, /^(cli|repo|storage|server|tuf)\//, file);
    for (const name of PUBLISHER_ONLY) assert.ok(![...packages.keys()].some((p) => p.startsWith(name)));
    const manifest = JSON.parse(await readFile(join(work, 'package', 'package.json'), 'utf8'));
    const root = JSON.parse(await readFile(join(PROJECT_ROOT, 'package.json'), 'utf8'));
    assert.equal(manifest.name, CLIENT_PACKAGE_NAME);
    assert.equal(manifest.version, root.version, 'the client package has the version of notsotuf');
    assert.deepEqual(Object.keys(manifest.dependencies).sort(), ['@tufjs/models', 'tuf-js']);
  });

  it('refuses to build when a client module imports a publisher package', async () => {
    const dist = join(work, 'fake-dist');
    await mkdir(join(dist, 'client'), { recursive: true });
    await writeFile(join(dist, 'client', 'index.js'), "/* import 'x' */\nexport { a } from './a.js';\n");
    await writeFile(
      join(dist, 'client', 'a.js'),
      "import { Command } from 'commander';\nexport const a = Command;\n",
    );
    for (const name of ['index', 'a']) await writeFile(join(dist, 'client', `${name}.d.ts`), 'export {};\n');
    const { packages } = importClosure(dist, ['client/index.js']);
    assert.deepEqual([...packages.keys()], ['commander'], 'comments are not imports');
    assert.throws(() => checkClientImports(packages), /commander \(imported by dist\/client\/a\.js\)/);
  });

  it('installs into an npm init -y project without commander or the AWS SDK', async (t) => {
    const pkg = JSON.parse(await readFile(join(project, 'package.json'), 'utf8'));
    assert.notEqual(pkg.type, 'module', 'npm init -y makes a CommonJS project');
    const modules = join(project, 'node_modules');
    assert.ok(existsSync(join(modules, '@notsotuf', 'client', 'dist', 'client', 'index.js')));
    assert.ok(existsSync(join(modules, 'tuf-js')));
    for (const name of PUBLISHER_ONLY) assert.ok(!existsSync(join(modules, name)), `${name} was installed`);
    assert.ok(!existsSync(join(modules, '@notsotuf', 'client', 'dist', 'cli')));
    t.diagnostic(`node_modules of the app: ${((await treeSize(modules)) / 1e6).toFixed(1)} MB`);
  });

  it('updates a CommonJS app (require, or import() on Node without require(esm))', async () => {
    const installDir = join(work, 'installed', 'app');
    const cacheDir = join(work, 'installed', 'cache');
    await installArchive(
      await publishedArchive(served.repo, 'app-1.0.0.tar.gz'),
      'app-1.0.0.tar.gz',
      installDir,
      cacheDir,
    );
    const loader = process.features.require_module
      ? "require('@notsotuf/client')"
      : "await import('@notsotuf/client')";
    const app = [
      "'use strict';",
      'async function main() {',
      `  const { Client, isNotsotufError } = ${loader};`,
      '  const client = new Client({',
      "    appName: 'app', currentVersion: '1.0.0',",
      `    installDir: ${JSON.stringify(installDir)}, cacheDir: ${JSON.stringify(cacheDir)},`,
      `    metadataUrl: '${served.server.url}/metadata/', targetsUrl: '${served.server.url}/targets/',`,
      `    trustedRoot: ${JSON.stringify(served.trustedRoot)},`,
      '  });',
      '  try {',
      '    const result = await client.update();',
      "    console.log(result ? 'installed ' + result.version + ' (' + result.download.method + ')' : 'up to date');",
      '  } catch (err) {',
      "    console.log(isNotsotufError(err) ? 'failed: ' + err.code : 'failed');",
      '  }',
      '}',
      'main();',
      '',
    ].join('\n');
    await writeFile(join(project, 'index.js'), app);
    const { stdout } = await run(process.execPath, ['index.js'], { cwd: project });
    assert.equal(stdout.trim(), 'installed 1.1.0 (patch)');
    assert.equal(await readFile(join(installDir, 'VERSION'), 'utf8'), '1.1.0\n');
    assert.equal(await readFile(join(installDir, 'lib', 'new.txt'), 'utf8'), 'new in 1.1.0\n');
  });
});
