/**
 * docs/quickstart.md, executed. The test reads the page itself, so the page and the test cannot drift:
 *
 * - every command line of its ```sh blocks runs in order, with `sh -c` in one temp directory, `notsotuf` (or
 *   `npx notsotuf`) in command position replaced by `node <repo>/dist/cli/main.js` and the environment of the CLI
 *   tests (run-cli.ts: no NOTSOTUF_* variables but those the page exports itself);
 * - `npm install notsotuf` lines are skipped: the test runs this checkout's build. The page says so in a comment
 *   on that line, which this test checks for;
 * - `notsotuf serve` runs in the background (on a free port instead of the page's port) until the end;
 * - the bundle directories the page adds releases from (`release add <dir> --version <v>`) are made beforehand,
 *   with the content the page describes: VERSION, main.mjs (the page's ```ts block, compiled, its
 *   `@notsotuf/client` import pointing at dist/client/index.js) and assets/;
 * - the ```ts block is type-checked against the built declarations, and must really update the installed 1.0.0
 *   to 1.1.0 by patch, printing what the page's ```text blocks of app output show.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { delimiter, dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';
import { tempDir } from '../cli/files.js';
import { assertBuilt, CLI_PATH, cliEnv, PROJECT_ROOT } from '../cli/run-cli.js';

const DOC = join(PROJECT_ROOT, 'docs', 'quickstart.md');
const CLIENT_JS = join(PROJECT_ROOT, 'dist', 'client', 'index.js');
const CLIENT_DTS = join(PROJECT_ROOT, 'dist', 'client', 'index.d.ts');
/** The comment an `npm install notsotuf` line must carry, since this test does not run it. */
const SKIP_COMMENT = /#.*skipped by test\/docs\/quickstart\.test\.ts/;

/** The bodies of the fenced blocks of one language, in order. */
export function fencedBlocks(markdown: string, lang: string): string[] {
  const blocks: string[] = [];
  const re = /^```([\w-]*)[^\n]*\n([\s\S]*?)^```[ \t]*$/gm;
  for (let m = re.exec(markdown); m !== null; m = re.exec(markdown)) {
    if (m[1] === lang) blocks.push(m[2]!);
  }
  return blocks;
}

/** The command lines of a shell block: continuations joined, blank and comment-only lines dropped. */
export function commandLines(block: string): string[] {
  return block
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

/** `notsotuf` / `npx notsotuf` in command position → the built CLI. */
export function rewriteCli(line: string): string {
  const cli = `'${process.execPath}' '${CLI_PATH}'`;
  return line.replace(/(^|&&|\|\||[;|(])(\s*)(?:npx\s+)?notsotuf(?=\s|$)/g, `$1$2${cli}`);
}

const isNpmInstall = (line: string) => /^npm\s+(install|i)\b.*\bnotsotuf\b/.test(line);
const isServe = (line: string) => /^(?:npx\s+)?notsotuf\s+serve\b/.test(line);

/** A TCP port nobody listens on right now. */
async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

interface LineResult {
  readonly line: string;
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs one command line with sh in `cwd`, after the page's `export` lines so far. */
function runLine(line: string, cwd: string, exports: readonly string[]): Promise<LineResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', [...exports, rewriteCli(line)].join('\n')], {
      cwd,
      env: shellEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => {
      stdout += b;
    });
    child.stderr.on('data', (b: Buffer) => {
      stderr += b;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ line, code, stdout, stderr });
    });
  });
}

/** The CLI tests' environment, with this Node first on PATH (the page runs `node …`). */
function shellEnv(): NodeJS.ProcessEnv {
  const env = cliEnv();
  env['PATH'] = `${dirname(process.execPath)}${delimiter}${env['PATH'] ?? ''}`;
  return env;
}

function assertLineOk(r: LineResult): void {
  assert.equal(
    r.code,
    0,
    `docs/quickstart.md: "${r.line}" exited ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`,
  );
}

/** Pseudo-random bytes (a fixed LCG), so the archive does not compress away and a patch is worth it. */
function assetBytes(version: string): Buffer {
  const data = Buffer.alloc(256 * 1024);
  let x = 20240601;
  for (let i = 0; i < data.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    data[i] = x >>> 24;
  }
  data.write(`asset of ${version}`, 8192);
  return data;
}

/** Type errors of the page's TypeScript, checked against the built declarations of @notsotuf/client. */
function typeErrors(source: string): string[] {
  const fileName = join(PROJECT_ROOT, 'test', 'docs', '__quickstart-snippet__.mts');
  const options: ts.CompilerOptions = {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    lib: ['lib.es2023.d.ts'],
    types: ['node'],
    strict: true,
    noUncheckedIndexedAccess: true,
    skipLibCheck: true,
    noEmit: true,
    paths: { '@notsotuf/client': [CLIENT_DTS] },
  };
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile: read } = host;
  host.getSourceFile = (name, language, ...rest) =>
    name === fileName
      ? ts.createSourceFile(name, source, language)
      : getSourceFile.call(host, name, language, ...rest);
  host.fileExists = (name) => name === fileName || fileExists.call(host, name);
  host.readFile = (name) => (name === fileName ? source : read.call(host, name));
  const program = ts.createProgram([fileName], options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

describe('docs/quickstart.md, executed', { timeout: 120_000 }, () => {
  let markdown: string;
  let lines: string[];
  let snippet: string;
  let work: string;
  let docPort: string;
  let port: number;
  const background: ChildProcess[] = [];
  const backgroundErr: string[] = [];

  before(async () => {
    assertBuilt();
    markdown = await readFile(DOC, 'utf8');
    lines = fencedBlocks(markdown, 'sh').flatMap(commandLines);
    const tsBlocks = fencedBlocks(markdown, 'ts');
    assert.equal(tsBlocks.length, 1, 'the quickstart has exactly one ```ts block: the app code');
    snippet = tsBlocks[0]!;
    work = await tempDir('notsotuf-quickstart-');
    const serveLine = lines.find(isServe);
    assert.ok(serveLine, 'the quickstart serves the repository with notsotuf serve');
    docPort = /--port\s+(\d+)/.exec(serveLine)?.[1] ?? '';
    assert.ok(docPort, `"${serveLine}" names a port`);
    port = await freePort();
  });

  after(async () => {
    for (const child of background) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await once(child, 'close');
      }
    }
  });

  test('the npm install lines of notsotuf and @notsotuf/client are the only lines not run, and it says so', () => {
    const installs = lines.filter(isNpmInstall);
    assert.ok(installs.length > 0, 'the quickstart starts with npm install notsotuf');
    for (const line of installs)
      assert.match(line, SKIP_COMMENT, `"${line}" must say that this test skips it`);
  });

  test('the app code type-checks against @notsotuf/client', () => {
    assert.match(snippet, /from '@notsotuf\/client'/);
    assert.deepEqual(typeErrors(snippet), []);
  });

  test('a failing command fails this test (the runner reports exit codes)', async () => {
    const dir = await tempDir('notsotuf-quickstart-neg-');
    const r = await runLine('npx notsotuf release add no-such-bundle --version 1.0.0', dir, []);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /error /);
  });

  test('every shell command runs, and the installed 1.0.0 updates itself to 1.1.0 by patch', async () => {
    // The app's URL and the server's port are the page's own, moved to a free port.
    assert.ok(
      snippet.includes(`127.0.0.1:${docPort}/`),
      `the app code must use the port the page serves on (${docPort})`,
    );
    const compiled = ts
      .transpileModule(snippet.replaceAll(`127.0.0.1:${docPort}/`, `127.0.0.1:${port}/`), {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      })
      .outputText.replaceAll(`'@notsotuf/client'`, `'${pathToFileURL(CLIENT_JS).href}'`);
    assert.ok(compiled.includes(pathToFileURL(CLIENT_JS).href), 'the import was rewritten');

    // The bundles the page adds releases from, with the content it describes.
    const bundles = lines.flatMap((line) => {
      const m = /^(?:npx\s+)?notsotuf\s+release\s+add\s+(\S+)\s.*--version\s+(\S+)/.exec(line);
      return m ? [{ dir: m[1]!, version: m[2]! }] : [];
    });
    assert.deepEqual(
      bundles.map((b) => b.version),
      ['1.0.0', '1.1.0'],
    );
    for (const { dir, version } of bundles) {
      await mkdir(join(work, dir, 'assets'), { recursive: true });
      await writeFile(join(work, dir, 'VERSION'), `${version}\n`);
      await writeFile(join(work, dir, 'main.mjs'), compiled);
      await writeFile(join(work, dir, 'assets', 'data.bin'), assetBytes(version));
    }

    const exports: string[] = [];
    const appRuns: LineResult[] = [];
    for (const line of lines) {
      if (isNpmInstall(line)) continue; // this checkout's build stands in for the npm package
      if (/^export\s+\w+=/.test(line)) exports.push(line);
      if (isServe(line)) {
        await startServer(line.replace(`--port ${docPort}`, `--port ${port}`), exports);
        continue;
      }
      const r = await runLine(line, work, exports);
      assertLineOk(r);
      if (/^node\s/.test(line)) appRuns.push(r);
    }

    // The app ran: up to date at 1.0.0, then updated, then 1.1.0.
    assert.ok(appRuns.length >= 3, 'the page runs the installed app before and after the second release');
    assert.match(appRuns[0]!.stdout, /my_app 1\.0\.0/);
    assert.match(appRuns.at(-1)!.stdout, /my_app 1\.1\.0/);
    const installed = join(work, 'installed', 'my-app');
    assert.equal((await readFile(join(installed, 'VERSION'), 'utf8')).trim(), '1.1.0');
    assert.deepEqual(await readFile(join(installed, 'assets', 'data.bin')), assetBytes('1.1.0'));
    // What the app printed is what the page shows (its ```text blocks of app output), byte counts aside.
    const normalize = (text: string) => text.trim().replace(/\d+ bytes/g, 'N bytes');
    assert.equal(
      normalize(appRuns.map((r) => r.stdout).join('')),
      normalize(
        fencedBlocks(markdown, 'text')
          .filter((block) => block.startsWith('my_app '))
          .join(''),
      ),
      'the app output shown in docs/quickstart.md',
    );
    // By patch: the server's log shows the patch and never the 1.1.0 archive; the cache keeps the next base.
    const log = backgroundErr.join('');
    assert.match(log, /200 GET \/targets\/[0-9a-f]{64}\.my_app-1\.1\.0\.patch/);
    assert.doesNotMatch(log, /my_app-1\.1\.0\.tar\.gz/);
    assert.deepEqual(await readdir(join(work, 'installed', 'my-app-cache', 'targets')), ['my_app-1.1.0.tar']);

    // With the update server down, the app still starts: the check fails, is reported, and the app goes on.
    for (const child of background) child.kill('SIGTERM');
    await Promise.all(background.map((c) => (c.exitCode === null ? once(c, 'close') : undefined)));
    const appLine = lines.filter((line) => /^node\s/.test(line)).at(-1)!;
    const offline = await runLine(appLine, work, exports);
    assertLineOk(offline);
    assert.match(offline.stdout, /^my_app 1\.1\.0$/m);
    assert.match(offline.stderr, /^update check failed: /m);
    assert.doesNotMatch(offline.stderr, /\n\s+at /, 'no stack trace');
  });

  /** Starts the page's `notsotuf serve` line in the background and waits until it listens. */
  async function startServer(line: string, exports: readonly string[]): Promise<void> {
    const child = spawn('/bin/sh', ['-c', [...exports, `exec ${rewriteCli(line)}`].join('\n')], {
      cwd: work,
      env: shellEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    background.push(child);
    child.stderr!.on('data', (b: Buffer) => backgroundErr.push(String(b)));
    let out = '';
    const listening = new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (b: Buffer) => {
        out += b;
        if (/serving .* at http:\/\//.test(out)) resolve();
      });
      child.on('close', (code) =>
        reject(new Error(`"${line}" exited ${code} before serving:\n${out}\n${backgroundErr.join('')}`)),
      );
    });
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`"${line}" did not start serving within 15 s`)), 15_000).unref(),
    );
    await Promise.race([listening, timeout]);
    assert.match(out, new RegExp(`127\\.0\\.0\\.1:${port}\\b`));
  }
});
