/**
 * sea-app: a small command-line app that updates itself through notsotuf, built into a Node single-executable
 * application (no Node needed on the user's machine). It is its own launcher (launcherMode), installs updates
 * atomically, confirms each new version once it runs (markHealthy), and rolls back a version that crashes.
 *
 *   sea-app --install <root> [--archive <file>]   first install (what an installer runs)
 *   sea-app [--update-now] [--no-update]          normal start (through the entry point <root>/sea-app)
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import {
  Client,
  exitLike,
  launcherMode,
  NotsotufError,
  versionedStrategy,
  writeEntryPoint,
} from 'notsotuf/client';

// Set by the build (build.mjs): the version, the bundled root.json, the repository URL, and a crash switch used
// to demonstrate rollback.
declare const APP_VERSION: string;
declare const TRUSTED_ROOT: string;
declare const UPDATE_URL: string;
declare const CRASH_ON_START: boolean;
/** Code that only exists from 1.1.0 on (the bundler drops it from builds without the feature). */
declare const FEATURE_STATUS: boolean;

const APP = 'sea_app';
/** The release directory layout: the executable is bin/sea-app. */
const ENTRY = 'bin/sea-app';

let logFile: string | undefined;
/** Prints a line, and keeps it in <root>/data/sea-app.log: a restarted app has no terminal to print to. */
function log(line: string): void {
  process.stdout.write(`${line}\n`);
  if (logFile) appendFileSync(logFile, `${new Date().toISOString()} ${line}\n`);
}

async function install(root: string, archive: string | undefined): Promise<void> {
  const releaseDir = resolve(dirname(process.execPath), '..');
  await mkdir(root, { recursive: true });
  await versionedStrategy({ entry: ENTRY }).install({
    sourceDir: releaseDir,
    installDir: root,
    version: APP_VERSION,
  });
  if (archive) {
    // The archive this copy came from is the base of the first patch update.
    await mkdir(join(root, 'cache', 'targets'), { recursive: true });
    await copyFile(archive, join(root, 'cache', 'targets', `${APP}-${APP_VERSION}.tar.gz`));
  }
  const { path } = await writeEntryPoint(root, { appName: 'sea-app', selfLaunch: true });
  log(`installed ${APP_VERSION} into ${root}; start it with ${path}`);
}

async function run(args: readonly string[]): Promise<void> {
  const root = process.env['NOTSOTUF_INSTALL_ROOT'];
  if (!root)
    throw new Error('start sea-app through its entry point (<root>/sea-app), or use --install <root>');
  mkdirSync(join(root, 'data'), { recursive: true });
  logFile = join(root, 'data', 'sea-app.log');
  log(`sea-app ${APP_VERSION} running`);
  if (CRASH_ON_START) throw new Error(`sea-app ${APP_VERSION} is broken`);

  const url = (process.env['SEA_APP_UPDATE_URL'] ?? UPDATE_URL).replace(/\/$/, '');
  const client = new Client({
    appName: APP,
    currentVersion: APP_VERSION,
    installDir: root,
    cacheDir: join(root, 'cache'),
    metadataUrl: `${url}/metadata/`,
    targetsUrl: `${url}/targets/`,
    trustedRoot: Buffer.from(TRUSTED_ROOT),
  });
  // This version works: end its trial (a version that never gets here is rolled back by the launcher).
  await client.markHealthy();
  const last = await client.lastUpdateResult();
  if (last) log(`last update: ${JSON.stringify(last)}`);
  if (FEATURE_STATUS && args.includes('--status')) await printStatus(root);
  if (args.includes('--no-update')) return;

  const info = await client.checkForUpdates();
  if (!info) {
    log('up to date');
    return;
  }
  let shown = -1;
  client.on('download-progress', (p) => {
    const pct = Math.floor((100 * p.bytes) / Math.max(1, p.total));
    if (pct >= shown + 25) {
      shown = pct;
      process.stderr.write(`downloading ${info.version}: ${pct}%\n`);
    }
  });
  const result = await client.update();
  if (!result) return;
  log(
    `updated to ${result.version} via ${result.download.method}: downloaded ${result.download.bytes} bytes ` +
      `(full archive ${info.archiveBytes} bytes)`,
  );
  if (args.includes('--update-now')) {
    log(`restarting into ${result.version}`);
    await client.restart();
    return;
  }
  log(`${result.version} starts at the next launch`);
}

/** `--status` (new in 1.1.0): the installed versions and what the update cache holds. */
async function printStatus(root: string): Promise<void> {
  const { readdir, stat } = await import('node:fs/promises');
  const versions = await readdir(join(root, 'versions')).catch(() => [] as string[]);
  log(`installed versions: ${versions.sort().join(', ') || 'none'}`);
  let bytes = 0;
  for (const name of await readdir(join(root, 'cache', 'targets')).catch(() => [] as string[])) {
    bytes += (await stat(join(root, 'cache', 'targets', name))).size;
  }
  log(`update cache: ${(bytes / 1048576).toFixed(1)} MiB of archives`);
}

async function main(): Promise<void> {
  const outcome = await launcherMode();
  if (outcome !== undefined) return exitLike(outcome);
  const args = process.argv.slice(2);
  const at = args.indexOf('--install');
  if (at >= 0) {
    const archiveAt = args.indexOf('--archive');
    return install(
      resolve(args[at + 1] ?? ''),
      archiveAt >= 0 ? resolve(args[archiveAt + 1] ?? '') : undefined,
    );
  }
  await run(args);
}

main().catch((err: unknown) => {
  const cause = err instanceof Error && err.cause instanceof Error ? ` (${err.cause.message})` : '';
  const hint = err instanceof NotsotufError && err.hint ? `\n  ${err.hint}` : '';
  process.stderr.write(`sea-app: ${err instanceof Error ? err.message : String(err)}${cause}${hint}\n`);
  process.exitCode = 1;
});
