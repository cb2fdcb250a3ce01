/**
 * The Windows lane's one way to run Windows programs: node.exe (or anything else) under wine64, in the prefix and
 * as the non-root Wine user that scripts/test-windows.mjs prepared and passed on in NOTSOTUF_WINE_*. stdin is
 * /dev/null and stdout/stderr go to files, read back when the process ends (a detached child holding them never
 * keeps a test waiting). Work directories live on the prefix's C: drive, so the code under test gets real Windows
 * paths with a space in them (`C:\notsotuf tests\…`); the test itself reads and asserts through their Linux paths.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** What scripts/test-windows.mjs passes on: node.exe, the Wine environment, and the Wine user (when root). */
interface WineLane {
  readonly nodeExe: string;
  readonly env: Readonly<Record<string, string>>;
  readonly as: { uid?: number; gid?: number };
}

function lane(): WineLane {
  const {
    NOTSOTUF_WINE_NODE: nodeExe,
    NOTSOTUF_WINE_ENV: env,
    NOTSOTUF_WINE_UID: uid,
    NOTSOTUF_WINE_GID: gid,
  } = process.env;
  if (!nodeExe || !env) {
    throw new Error(
      'The Windows lane runs through `npm run test:windows` (scripts/test-windows.mjs sets up Wine).',
    );
  }
  return {
    nodeExe,
    env: JSON.parse(env),
    as: uid && gid ? { uid: Number(uid), gid: Number(gid) } : {},
  };
}

const WINE64 = '/usr/lib/wine/wine64';
const PROJECT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
/**
 * Node's built-in fetch fails under Wine 8 (`connect UNKNOWN`); the preload works around it in every node.exe of
 * the lane, children included (see the file for why).
 */
const FETCH_PRELOAD = `file:///Z:${PROJECT}/test/windows/wine-fetch-preload.mjs`;

/** The Windows path Wine gives a Linux path: the prefix's drive_c is C:, everything else is under Z: (= /). */
export function windowsPath(linuxPath: string): string {
  const driveC = `${lane().env['WINEPREFIX']}/drive_c/`;
  const [drive, rest] = linuxPath.startsWith(driveC)
    ? ['C:\\', linuxPath.slice(driveC.length)]
    : ['Z:', linuxPath];
  return drive + rest.replaceAll('/', '\\');
}

/** The Linux path of the lane's node.exe (an app may ship a copy of it as its own runtime). */
export const nodeExePath = (): string => lane().nodeExe;

/** The `file:` URL node.exe imports a built module by, e.g. `distModule('client/index.js')`. */
export const distModule = (rel: string): string => `file:///Z:${PROJECT}/dist/${rel}`;

/** The built CLI and the test dir, as node.exe sees them. */
export const DIST_CLI = windowsPath(`${PROJECT}/dist/cli/main.js`);
export const testFile = (name: string): string => windowsPath(`${PROJECT}/test/windows/${name}`);

export interface WineResult {
  /** The exit code; null when the process was killed. */
  readonly status: number | null;
  readonly timedOut: boolean;
  readonly stdout: string;
  readonly stderr: string;
}

export interface WineRunOptions {
  /** Kill the process after this many ms; default 60 s. */
  readonly timeoutMs?: number;
  /** Extra environment variables for the Windows process. */
  readonly env?: Readonly<Record<string, string>>;
}

/** A work directory on the prefix's C: drive, owned by the Wine user; the run logs go to a sibling only we write. */
export class WineWorkDir {
  #runs = 0;

  private constructor(
    /** The Linux path of the work directory. */
    readonly dir: string,
    private readonly logs: string,
  ) {}

  static async create(name: string): Promise<WineWorkDir> {
    const base = join(lane().env['WINEPREFIX'] as string, 'drive_c', 'notsotuf tests');
    await mkdir(base, { recursive: true });
    const dir = await mkdtemp(join(base, `${name}-`));
    const logs = await mkdtemp(join(base, `.logs-${name}-`));
    return new WineWorkDir(dir, logs);
  }

  /** The Windows path of `rel` ('a/b') inside the work directory. */
  win(rel = ''): string {
    return windowsPath(rel ? join(this.dir, rel) : this.dir);
  }

  /** `node.exe args…` under Wine, with the fetch preload and NODE_SKIP_PLATFORM_CHECK (Wine is not a Windows node supports). */
  node(args: readonly string[], options: WineRunOptions = {}): Promise<WineResult> {
    return this.app(lane().nodeExe, args, options);
  }

  /** Like {@link node}, with another copy of node.exe (`exe`, a Windows or Linux path): an app's own runtime. */
  app(exe: string, args: readonly string[], options: WineRunOptions = {}): Promise<WineResult> {
    const env = { NODE_SKIP_PLATFORM_CHECK: '1', NODE_OPTIONS: `--import=${FETCH_PRELOAD}`, ...options.env };
    return this.run([exe, ...args], { ...options, env });
  }

  /**
   * Runs `wine64 program args…` in the work directory. Everything in it is first handed to the Wine user: the test
   * writes there as root, and the program must be able to change what it finds, as the installed user could.
   */
  async run(argv: readonly string[], options: WineRunOptions = {}): Promise<WineResult> {
    const { env, as } = lane();
    if (as.uid !== undefined) await promisify(execFile)('chown', ['-R', `${as.uid}:${as.gid}`, this.dir]);
    const n = ++this.#runs;
    const [out, err] = [join(this.logs, `${n}.out`), join(this.logs, `${n}.err`)];
    const [outFile, errFile] = [await open(out, 'w'), await open(err, 'w')];
    let timedOut = false;
    try {
      const child = spawn(WINE64, argv, {
        cwd: this.dir,
        env: { ...env, ...options.env },
        stdio: ['ignore', outFile.fd, errFile.fd],
        ...as,
      });
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, options.timeoutMs ?? 60_000);
      const status = await new Promise<number | null>((resolve, reject) => {
        child.once('error', reject);
        child.once('close', (code) => resolve(code));
      }).finally(() => clearTimeout(timer));
      return { status, timedOut, stdout: await readFile(out, 'utf8'), stderr: await readFile(err, 'utf8') };
    } finally {
      await outFile.close();
      await errFile.close();
    }
  }

  async cleanup(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
    await rm(this.logs, { recursive: true, force: true });
  }
}

/** Fails with everything a Wine run printed unless it exited with `status`. */
export function describeRun(r: WineResult): string {
  return `exit ${r.status}${r.timedOut ? ' (timed out)' : ''}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}
