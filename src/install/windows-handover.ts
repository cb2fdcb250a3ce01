/**
 * The Windows half of the in-place install. Windows refuses to replace or delete a running executable or a loaded
 * DLL, so the app cannot finish updating itself: it starts a helper process and quits, and the helper installs
 * once the app has exited. Two helpers:
 * - `node` (the default): the app's own runtime runs notsotuf's journaled in-place install, the same code as on
 *   every other platform (see `handover/`). Nothing beyond the app's runtime is needed.
 * - `powershell` (opt-in, and what `elevate` uses, since a UAC prompt needs Windows' shell): a PowerShell script
 *   that waits for the process to exit, then, as a numbered checklist logged to a file:
 *   1. backs up the install directory (robocopy, into the hand-over directory outside the install dir);
 *   2. removes installed entries whose type changes (a file where the release has a directory, or the reverse);
 *   3. copies the release over the install directory: robocopy /E /IS /IT, retrying locked files;
 *   4. with purge, removes what the release does not have, except what the exclude patterns protect;
 *      — point of no return —
 *   5. removes the backup (best effort) and restarts the app.
 *   A failure in 1–4 copies the backup back, so the app is as it was; the script exits non-zero either way.
 *
 * Why not `robocopy /MIR /XD … /XF …`: robocopy's excludes also skip those names when copying, so a release that
 * ships `app.log` or a `logs` folder would be installed incomplete, and /XD takes no wildcards. Instead robocopy
 * copies everything and the script purges with the same patterns, compiled to the same regular expressions, as
 * the POSIX installer. /IS and /IT make robocopy copy files it thinks are the same: reproducible archives give
 * every file the same mtime, so a changed file of unchanged size would otherwise be skipped.
 *
 * Every value enters the script as a single-quoted literal (see `windows-quote.ts`); the script body is fixed text.
 */
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { NotsotufError } from '../core/errors.js';
import { writeFileAtomic } from '../util/durable-fs.js';
import { ALWAYS_EXCLUDED, excludePatternSource, literalPathSource } from './exclude-pattern.js';
import { type HelperCommand, writeNodeHandover } from './handover/node-handover.js';
import { HANDOVER_EXIT, type RestartCommand } from './handover/plan.js';
import type { Handover } from './strategy.js';
import { powerShellLiteral, windowsCommandLine } from './windows-quote.js';

export type { RestartCommand };
export { HANDOVER_EXIT };

/** How the hand-over runs; every field has a default. */
export interface WindowsHandoverOptions {
  /** Which helper finishes the install: the app's own runtime (`node`, default) or a PowerShell script. */
  readonly helper?: 'node' | 'powershell';
  /** Node helper: start the app's own executable with `--notsotuf-handover` (default for single-executable apps). */
  readonly selfLaunch?: boolean;
  /** Node helper: the command that runs the helper, instead of this process's runtime (the plan path is appended). */
  readonly helperCommand?: HelperCommand;
  /** The process to wait for; default the current one. */
  readonly pid?: number;
  /** Default `notsotuf-handover.log` beside the script. */
  readonly logFile?: string;
  readonly restart?: RestartCommand;
  /**
   * Run the hand-over elevated (UAC prompt), for an install dir the user may not write, e.g. Program Files. Uses the
   * PowerShell helper, whichever `helper` says.
   */
  readonly elevate?: boolean;
  /** Hide the PowerShell window; default true. */
  readonly hidden?: boolean;
}

export interface HandoverScriptOptions {
  readonly pid: number;
  readonly sourceDir: string;
  readonly installDir: string;
  readonly purge: boolean;
  readonly exclude: readonly string[];
  readonly logFile: string;
  readonly restart?: RestartCommand;
  /** Where step 1 puts the backup (a full copy of the install dir). Must be outside the install dir. */
  readonly backupDir: string;
  /** Version being installed, for the log. */
  readonly version?: string;
  /** How long to wait for `pid` to exit; default {@link DEFAULT_WINDOWS_HANDOVER}. */
  readonly waitTimeoutSeconds?: number;
}

export const DEFAULT_WINDOWS_HANDOVER = {
  waitTimeoutSeconds: 120,
  /** Per file (robocopy /R /W) and per delete: how often to retry a locked file, and how long to wait between. */
  retryCount: 10,
  retryWaitSeconds: 2,
  hidden: true,
  elevate: false,
  scriptName: 'notsotuf-handover.ps1',
  logName: 'notsotuf-handover.log',
} as const;

const SCRIPT_BODY = String.raw`
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

function Write-Log([string]$Message) {
  $line = (Get-Date).ToString('yyyy-MM-ddTHH:mm:ss.fffzzz') + ' ' + $Message + [Environment]::NewLine
  try { [System.IO.File]::AppendAllText($LogFile, $line, (New-Object System.Text.UTF8Encoding($false))) } catch { }
}

function Wait-AppExit {
  $deadline = (Get-Date).AddSeconds($WaitTimeoutSeconds)
  $nextLog = Get-Date
  while ($null -ne (Get-Process -Id $AppPid -ErrorAction SilentlyContinue)) {
    if ((Get-Date) -ge $deadline) { return $false }
    if ((Get-Date) -ge $nextLog) { Write-Log "waiting for process $AppPid to exit"; $nextLog = (Get-Date).AddSeconds(5) }
    Start-Sleep -Milliseconds 250
  }
  return $true
}

# A trailing backslash would escape the closing quote of the argument robocopy receives.
function Get-RoboPath([string]$Path) { if ($Path.EndsWith('\')) { return $Path + '.' } else { return $Path } }

function Invoke-Robocopy([string]$From, [string]$To) {
  for ($attempt = 1; ; $attempt++) {
    Write-Log "  robocopy from $From to $To (attempt $attempt)"
    $output = & robocopy.exe (Get-RoboPath $From) (Get-RoboPath $To) /E /IS /IT /SL "/R:$RetryCount" "/W:$RetryWaitSeconds" /NP /NJH /NJS /NDL /NFL
    $code = $LASTEXITCODE
    foreach ($line in @($output)) { if ("$line".Trim() -ne '') { Write-Log "    $line" } }
    if ($code -lt 8) { return }
    if ($attempt -ge 3) { throw "robocopy failed with exit code $code" }
    Start-Sleep -Seconds $RetryWaitSeconds
  }
}

function Get-Kind($Item) {
  if (([int]($Item.Attributes -band [System.IO.FileAttributes]::ReparsePoint)) -ne 0) { return 'link' }
  if ($Item.PSIsContainer) { return 'dir' }
  return 'file'
}

function Remove-WithRetry([string]$Path, [bool]$IsDir) {
  for ($attempt = 1; ; $attempt++) {
    try {
      if ($IsDir) { [System.IO.Directory]::Delete($Path, $false) } else { [System.IO.File]::Delete($Path) }
      return
    } catch {
      if ($attempt -ge $RetryCount) { throw }
      Write-Log "    locked, retrying in $RetryWaitSeconds s ($Path)"
      Start-Sleep -Seconds $RetryWaitSeconds
    }
  }
}

# Deletes links as links: Remove-Item -Recurse on a directory link deletes the files it points to in PowerShell 5.1.
function Remove-Entry($Item) {
  $kind = Get-Kind $Item
  if ($kind -eq 'dir') {
    foreach ($child in @(Get-ChildItem -LiteralPath $Item.FullName -Force)) { Remove-Entry $child }
  } elseif ($kind -eq 'file') {
    [System.IO.File]::SetAttributes($Item.FullName, [System.IO.FileAttributes]::Normal)
  }
  Remove-WithRetry $Item.FullName ([bool]$Item.PSIsContainer)
}

function Get-Entry([string]$Path) { return Get-Item -LiteralPath $Path -Force -ErrorAction SilentlyContinue }

function Remove-TypeConflicts([string]$Ref, [string]$Dst) {
  foreach ($item in @(Get-ChildItem -LiteralPath $Ref -Force)) {
    $existing = Get-Entry (Join-Path $Dst $item.Name)
    if ($null -eq $existing) { continue }
    $kind = Get-Kind $item
    if ($kind -ne (Get-Kind $existing)) { Write-Log "  type changes, removing $($existing.FullName)"; Remove-Entry $existing }
    elseif ($kind -eq 'dir') { Remove-TypeConflicts $item.FullName $existing.FullName }
  }
}

function Test-Protected([string]$Rel, [string[]]$Patterns) {
  foreach ($pattern in $Patterns) {
    if ([regex]::IsMatch($Rel, $pattern, [System.Text.RegularExpressions.RegexOptions]::IgnoreCase)) { return $true }
  }
  return $false
}

# Removes what $Dst has and $Ref does not, except protected paths; a directory holding one is kept.
function Remove-Extra([string]$Ref, [string]$Dst, [string]$Rel, [string[]]$Patterns) {
  foreach ($item in @(Get-ChildItem -LiteralPath $Dst -Force)) {
    $childRel = if ($Rel -eq '') { $item.Name } else { $Rel + '/' + $item.Name }
    if (Test-Protected $childRel $Patterns) { continue }
    $refPath = Join-Path $Ref $item.Name
    $inRef = $null -ne (Get-Entry $refPath)
    if ((Get-Kind $item) -eq 'dir') {
      Remove-Extra $refPath $item.FullName $childRel $Patterns
      if (-not $inRef -and @(Get-ChildItem -LiteralPath $item.FullName -Force).Count -eq 0) {
        Write-Log "  purge $childRel"
        Remove-Entry $item
      }
    } elseif (-not $inRef) {
      Write-Log "  purge $childRel"
      Remove-Entry $item
    }
  }
}

$ExitCode = 0
$BackedUp = $false
Write-Log "notsotuf hand-over: version $Version from $SourceDir into $InstallDir (purge $Purge)"
if (-not (Wait-AppExit)) {
  Write-Log "ERROR: process $AppPid still runs after $WaitTimeoutSeconds s; nothing was changed. Quit the app, then install the update again."
  exit 3
}
try {
  Write-Log "step 1/5: back up $InstallDir into $BackupDir"
  Invoke-Robocopy $InstallDir $BackupDir
  $BackedUp = $true
  Write-Log 'step 2/5: remove entries whose type changes'
  Remove-TypeConflicts $SourceDir $InstallDir
  Write-Log 'step 3/5: copy the new files'
  Invoke-Robocopy $SourceDir $InstallDir
  Write-Log 'step 4/5: remove purged entries'
  if ($Purge) { Remove-Extra $SourceDir $InstallDir '' $ExcludeRegex } else { Write-Log '  purge is off' }
  # POINT OF NO RETURN: the new release is in place; what follows only warns.
} catch {
  $ExitCode = 1
  Write-Log "ERROR: $($_.Exception.Message)"
  if ($BackedUp) {
    try {
      Write-Log 'restoring the previous version from the backup'
      Remove-Extra $BackupDir $InstallDir '' $AlwaysExcludedRegex
      Remove-TypeConflicts $BackupDir $InstallDir
      Invoke-Robocopy $BackupDir $InstallDir
      Write-Log 'the previous version was restored; install the update again later'
    } catch {
      $ExitCode = 2
      Write-Log "ERROR: restoring failed ($($_.Exception.Message)). The previous files are in $BackupDir; copy them back into $InstallDir, or reinstall the app."
    }
  } else {
    Write-Log 'nothing was changed'
  }
}
Write-Log 'step 5/5: clean up'
if ($ExitCode -ne 2) {
  try {
    $backup = Get-Entry $BackupDir
    if ($null -ne $backup) { Remove-Entry $backup }
  } catch { Write-Log "WARNING: could not remove $BackupDir ($($_.Exception.Message)); delete it by hand" }
}
if ($RestartCommand -ne '' -and $ExitCode -le 1) {
  try {
    # Tells the restarted app how the install went, so it need not retry a failing update in a loop.
    $env:NOTSOTUF_HANDOVER_RESULT = if ($ExitCode -eq 0) { 'installed' } else { 'failed' }
    $env:NOTSOTUF_HANDOVER_LOG = $LogFile
    $start = @{ FilePath = $RestartCommand }
    if ($RestartArguments -ne '') { $start.ArgumentList = $RestartArguments }
    if ($RestartCwd -ne '') { $start.WorkingDirectory = $RestartCwd }
    Start-Process @start
    Write-Log "restarted $RestartCommand"
  } catch { Write-Log "WARNING: could not restart the app ($($_.Exception.Message))" }
}
Write-Log "finished with exit code $ExitCode"
exit $ExitCode
`;

function psArray(items: readonly string[]): string {
  return `@(${items.map(powerShellLiteral).join(', ')})`;
}

/**
 * The text of the hand-over PowerShell script (see the file comment for what it does).
 * @throws NotsotufError INVALID_ARGUMENT for a bad pid, timeout, exclude pattern, or a value with a NUL character.
 */
export function buildWindowsHandoverScript(options: HandoverScriptOptions): string {
  const { pid, installDir, logFile } = options;
  const wait = options.waitTimeoutSeconds ?? DEFAULT_WINDOWS_HANDOVER.waitTimeoutSeconds;
  if (!Number.isSafeInteger(pid) || pid <= 0 || !Number.isSafeInteger(wait) || wait < 0) {
    throw new NotsotufError('INVALID_ARGUMENT', 'The hand-over needs a positive process id and timeout.', {
      details: { pid, waitTimeoutSeconds: wait },
    });
  }
  const excludes = [...ALWAYS_EXCLUDED, ...options.exclude].map(excludePatternSource);
  // A log file inside the install dir must survive the purge that runs while it is being written.
  const logRel = relative(installDir, logFile);
  if (logRel !== '' && !logRel.startsWith('..') && !isAbsolute(logRel)) {
    excludes.push(literalPathSource(logRel.split(sep).join('/')));
  }
  const restart = options.restart;
  const lines = [
    '# notsotuf hand-over script: finishes an in-place install once the app has quit.',
    '# Generated by notsotuf. Every value below is a literal; the log explains each step.',
    `$AppPid = ${pid}`,
    `$Version = ${powerShellLiteral(options.version ?? '')}`,
    `$SourceDir = ${powerShellLiteral(options.sourceDir)}`,
    `$InstallDir = ${powerShellLiteral(installDir)}`,
    `$BackupDir = ${powerShellLiteral(options.backupDir)}`,
    `$LogFile = ${powerShellLiteral(logFile)}`,
    `$Purge = ${options.purge ? '$true' : '$false'}`,
    `$ExcludeRegex = ${psArray(excludes)}`,
    `$AlwaysExcludedRegex = ${psArray(ALWAYS_EXCLUDED.map(excludePatternSource))}`,
    `$WaitTimeoutSeconds = ${wait}`,
    `$RetryCount = ${DEFAULT_WINDOWS_HANDOVER.retryCount}`,
    `$RetryWaitSeconds = ${DEFAULT_WINDOWS_HANDOVER.retryWaitSeconds}`,
    `$RestartCommand = ${powerShellLiteral(restart?.command ?? '')}`,
    `$RestartArguments = ${powerShellLiteral(windowsCommandLine(restart?.args ?? []))}`,
    `$RestartCwd = ${powerShellLiteral(restart?.cwd ?? '')}`,
  ];
  return `${lines.join('\r\n')}\r\n${SCRIPT_BODY.replace(/\r?\n/g, '\r\n')}`;
}

const POWERSHELL_BASE_ARGS = ['-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass'] as const;

/**
 * The command that runs the script. Elevated, a first PowerShell runs `Start-Process -Verb RunAs` on the second;
 * that outer command goes in as -EncodedCommand (base64 UTF-16LE), so no quoting layer can be got wrong.
 */
export function handoverCommand(
  scriptPath: string,
  logFile: string,
  options: { readonly elevate?: boolean; readonly hidden?: boolean } = {},
): { command: string; args: string[] } {
  const hidden = options.hidden ?? DEFAULT_WINDOWS_HANDOVER.hidden;
  const windowArgs = hidden ? ['-WindowStyle', 'Hidden'] : [];
  const direct = [...POWERSHELL_BASE_ARGS, ...windowArgs, '-File', scriptPath];
  if (!(options.elevate ?? DEFAULT_WINDOWS_HANDOVER.elevate))
    return { command: 'powershell.exe', args: direct };
  const outer = [
    'try {',
    `  Start-Process -FilePath 'powershell.exe' -Verb RunAs${hidden ? ' -WindowStyle Hidden' : ''} -ArgumentList ${powerShellLiteral(windowsCommandLine(direct))}`,
    '} catch {',
    `  [System.IO.File]::AppendAllText(${powerShellLiteral(logFile)}, 'elevation refused or failed: ' + $_.Exception.Message + [Environment]::NewLine)`,
    '  exit 1',
    '}',
  ].join('\r\n');
  const encoded = Buffer.from(outer, 'utf16le').toString('base64');
  return {
    command: 'powershell.exe',
    args: [...POWERSHELL_BASE_ARGS, ...windowArgs, '-EncodedCommand', encoded],
  };
}

export type SpawnFunction = (command: string, args: readonly string[], options: SpawnOptions) => ChildProcess;

export interface WriteWindowsHandoverOptions
  extends Omit<HandoverScriptOptions, 'logFile' | 'backupDir'>,
    Omit<WindowsHandoverOptions, 'pid' | 'restart'> {
  /** Directory the script is written to, with its backup (`backup`) and, by default, its log. */
  readonly dir: string;
  /** Replaces `child_process.spawn`, for tests. */
  readonly spawnProcess?: SpawnFunction;
}

/**
 * Writes the hand-over (the node helper's plan, or the PowerShell script) into `options.dir` and returns the
 * {@link Handover}; `start()` launches the helper detached and hidden, and the app should exit right after.
 * @throws NotsotufError INVALID_ARGUMENT (a bad pid, timeout or exclude pattern), IO_ERROR, INSTALL_FAILED (the
 *   helper cannot be prepared); `start()` throws INSTALL_FAILED when the helper cannot be started.
 */
export async function writeWindowsHandover(options: WriteWindowsHandoverOptions): Promise<Handover> {
  const logFile = options.logFile ?? join(options.dir, DEFAULT_WINDOWS_HANDOVER.logName);
  await makeDirs([options.dir, dirname(logFile)]);
  if ((options.helper ?? 'node') === 'node' && !options.elevate) {
    return writeNodeHandover({
      dir: options.dir,
      pid: options.pid,
      waitTimeoutSeconds: options.waitTimeoutSeconds ?? DEFAULT_WINDOWS_HANDOVER.waitTimeoutSeconds,
      sourceDir: options.sourceDir,
      installDir: options.installDir,
      purge: options.purge,
      exclude: options.exclude,
      version: options.version || 'unknown',
      logFile,
      retryCount: DEFAULT_WINDOWS_HANDOVER.retryCount,
      retryWaitSeconds: DEFAULT_WINDOWS_HANDOVER.retryWaitSeconds,
      ...(options.restart ? { restart: options.restart } : {}),
      ...(options.selfLaunch === undefined ? {} : { selfLaunch: options.selfLaunch }),
      ...(options.helperCommand ? { helper: options.helperCommand } : {}),
    });
  }
  const scriptPath = join(options.dir, DEFAULT_WINDOWS_HANDOVER.scriptName);
  const script = buildWindowsHandoverScript({ ...options, logFile, backupDir: join(options.dir, 'backup') });
  // A BOM: Windows PowerShell 5.1 reads a .ps1 without one in the ANSI code page, which garbles non-ASCII paths.
  await writeFileAtomic(scriptPath, `\uFEFF${script}`, 0o644);
  const { command, args } = handoverCommand(scriptPath, logFile, options);
  const spawnProcess = options.spawnProcess ?? spawn;
  return {
    scriptPath,
    logFile,
    start: () =>
      new Promise<void>((resolve, reject) => {
        const child = spawnProcess(command, args, { detached: true, windowsHide: true, stdio: 'ignore' });
        child.once('error', (err) =>
          reject(
            new NotsotufError('INSTALL_FAILED', 'Could not start the hand-over script.', {
              cause: err,
              path: scriptPath,
              hint: 'Check that Windows PowerShell (powershell.exe) can run, then install the update again.',
            }),
          ),
        );
        child.once('spawn', () => {
          child.unref();
          resolve();
        });
      }),
  };
}

async function makeDirs(dirs: readonly string[]): Promise<void> {
  for (const dir of dirs) {
    await mkdir(dir, { recursive: true }).catch((err: unknown) => {
      throw new NotsotufError('IO_ERROR', `Could not create the directory ${dir} for the hand-over.`, {
        cause: err,
        path: dir,
        hint: 'Check that the directory is writable and that the disk is not full.',
      });
    });
  }
}
