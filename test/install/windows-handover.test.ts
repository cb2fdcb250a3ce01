/**
 * The Windows hand-over. PowerShell and robocopy cannot run here, so every test is a mock: it checks the generated
 * script text and command lines, and says so in its name. The quoting tests parse the literals the way PowerShell's
 * tokenizer does, to prove that a hostile path stays one string.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isNotsotufError } from '../../src/core/errors.js';
import {
  buildWindowsHandoverScript,
  excludePatternSource,
  type HandoverScriptOptions,
  handoverCommand,
  inPlaceStrategy,
  powerShellLiteral,
  type SpawnFunction,
  windowsCommandLineArg,
  writeWindowsHandover,
} from '../../src/install/index.js';
import { buildTree, tempDir } from './helpers.js';

const MOCK = 'windows-only (mocked: cannot run PowerShell here)';
const PS_QUOTES = new Set(["'", '\u2018', '\u2019', '\u201A', '\u201B']);

/**
 * Reads one PowerShell single-quoted literal starting at `text[start]` as PowerShell's tokenizer does: any of the
 * five single-quote characters opens or closes it, and two in a row stand for one. Returns the value and the
 * index just past the closing quote.
 */
function readLiteral(text: string, start: number): { value: string; end: number } {
  assert.ok(PS_QUOTES.has(text[start] as string), `a literal starts at ${start}`);
  let value = '';
  for (let i = start + 1; i < text.length; i++) {
    const ch = text[i] as string;
    if (!PS_QUOTES.has(ch)) value += ch;
    else if (PS_QUOTES.has(text[i + 1] as string)) value += text[++i];
    else return { value, end: i + 1 };
  }
  assert.fail('unterminated literal');
}

/** The `$Name = '…'` assignments at the top of a script, each checked to hold exactly one literal. */
function headerValues(script: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of script.split('\r\n')) {
    const m = /^\$(\w+) = (?=['\u2018-\u201B])/.exec(line);
    if (!m) continue;
    const { value, end } = readLiteral(line, m[0].length);
    assert.equal(end, line.length, `nothing follows the literal of $${m[1]}: ${line}`);
    out[m[1] as string] = value;
  }
  return out;
}

const BASE: HandoverScriptOptions = {
  pid: 4242,
  sourceDir: 'C:\\Users\\ann\\AppData\\Local\\app\\staging\\2.0.0',
  installDir: 'C:\\Program Files\\My App',
  purge: false,
  exclude: [],
  logFile: 'C:\\Users\\ann\\AppData\\Local\\Temp\\notsotuf-handover-x\\notsotuf-handover.log',
  backupDir: 'C:\\Users\\ann\\AppData\\Local\\Temp\\notsotuf-handover-x\\backup',
};

describe('Windows hand-over script', () => {
  const hostile = [
    "C:\\evil'; Remove-Item -Recurse C:\\ ;'",
    'C:\\evil\u2019; Remove-Item -Recurse C:\\ ;\u2018',
    'C:\\$(Remove-Item -Recurse C:\\)\\`$env:TEMP',
    "C:\\''; Remove-Item -Recurse C:\\ ;''",
  ];
  for (const path of hostile) {
    test(`${MOCK}: script quotes paths literally: ${JSON.stringify(path)}`, () => {
      const script = buildWindowsHandoverScript({
        ...BASE,
        sourceDir: path,
        installDir: path,
        logFile: `${path}\\log.txt`,
        restart: { command: path, args: [path, 'a b'], cwd: path },
        exclude: [path.replaceAll('\\', '_')],
      });
      const values = headerValues(script);
      assert.equal(values['SourceDir'], path);
      assert.equal(values['InstallDir'], path);
      assert.equal(values['LogFile'], `${path}\\log.txt`);
      assert.equal(values['RestartCommand'], path);
      assert.equal(values['RestartCwd'], path);
      // The payload appears only inside literals: never in the fixed body.
      const body = script.slice(script.indexOf('$ErrorActionPreference'));
      assert.ok(!body.includes('Remove-Item -Recurse C:'), 'the body is fixed text');
    });
  }

  test(`${MOCK}: powerShellLiteral doubles every quote character PowerShell accepts`, () => {
    const table: [string, string][] = [
      ['plain', "'plain'"],
      ["it's", "'it''s'"],
      ['a\u2019b', "'a\u2019\u2019b'"],
      ['$env:PATH `n $(x)', "'$env:PATH `n $(x)'"],
      ['', "''"],
    ];
    for (const [input, expected] of table) assert.equal(powerShellLiteral(input), expected);
    assert.throws(
      () => powerShellLiteral('a\0b'),
      (e: unknown) => isNotsotufError(e, 'INVALID_ARGUMENT'),
    );
  });

  test(`${MOCK}: command-line arguments follow CommandLineToArgvW rules`, () => {
    const table: [string, string][] = [
      ['plain', 'plain'],
      ['', '""'],
      ['a b', '"a b"'],
      ['say "hi"', '"say \\"hi\\""'],
      ['C:\\My Dir\\', '"C:\\My Dir\\\\"'],
      ['C:\\no\\spaces\\', 'C:\\no\\spaces\\'],
      ['a\\"b c', '"a\\\\\\"b c"'],
    ];
    for (const [input, expected] of table) assert.equal(windowsCommandLineArg(input), expected, input);
  });

  test(`${MOCK}: the script waits for the pid, backs up, copies with robocopy /E /IS /IT and logs`, () => {
    const script = buildWindowsHandoverScript({ ...BASE, version: '2.0.0', waitTimeoutSeconds: 30 });
    assert.match(script, /^\$AppPid = 4242\r$/m);
    assert.match(script, /^\$WaitTimeoutSeconds = 30\r$/m);
    assert.match(script, /^\$Purge = \$false\r$/m);
    assert.match(script, /Get-Process -Id \$AppPid/);
    assert.match(script, /robocopy\.exe .* \/E \/IS \/IT \/SL "\/R:\$RetryCount" "\/W:\$RetryWaitSeconds"/);
    assert.ok(
      !/\/MIR|\/PURGE|\/XF|\/XD/i.test(script),
      'robocopy never purges: its excludes would skip copies too',
    );
    assert.match(script, /POINT OF NO RETURN/);
    assert.match(script, /exit \$ExitCode/);
    for (const step of ['step 1/5', 'step 2/5', 'step 3/5', 'step 4/5', 'step 5/5'])
      assert.ok(script.includes(step));
    const values = headerValues(script);
    assert.equal(values['Version'], '2.0.0');
    assert.equal(values['BackupDir'], BASE.backupDir);
    assert.equal(values['RestartCommand'], '', 'no restart unless asked');
    assert.ok(!/[^\r]\n/.test(script), 'CRLF line endings');
  });

  test(`${MOCK}: purge uses the same exclude regexes as the POSIX installer, plus the log file`, () => {
    const installDir = '/opt/app';
    const script = buildWindowsHandoverScript({
      ...BASE,
      installDir,
      purge: true,
      exclude: ['logs/', '*.log'],
      logFile: `${installDir}/var/update.log`,
    });
    assert.match(script, /^\$Purge = \$true\r$/m);
    const line = script.split('\r\n').find((l) => l.startsWith('$ExcludeRegex = ')) as string;
    const literals: string[] = [];
    for (let i = line.indexOf('@(') + 2; line[i] !== ')'; ) {
      const { value, end } = readLiteral(line, i);
      literals.push(value);
      i = line[end] === ',' ? end + 2 : end;
    }
    assert.deepEqual(literals, [
      excludePatternSource('.notsotuf-*'),
      excludePatternSource('logs/'),
      excludePatternSource('*.log'),
      '^var/update\\.log(?:/|$)',
    ]);
  });

  test(`${MOCK}: restart arguments are one command line, quoted for Windows`, () => {
    const script = buildWindowsHandoverScript({
      ...BASE,
      restart: {
        command: 'C:\\Program Files\\My App\\app.exe',
        args: ['--updated', 'C:\\a dir\\'],
        cwd: 'C:\\x',
      },
    });
    const values = headerValues(script);
    assert.equal(values['RestartArguments'], '--updated "C:\\a dir\\\\"');
    assert.match(script, /NOTSOTUF_HANDOVER_RESULT/);
  });

  test(`${MOCK}: bad pid or exclude pattern is INVALID_ARGUMENT`, () => {
    for (const options of [{ pid: 0 }, { pid: 1.5 }, { exclude: ['..'] }]) {
      assert.throws(
        () => buildWindowsHandoverScript({ ...BASE, ...options }),
        (e: unknown) => isNotsotufError(e, 'INVALID_ARGUMENT'),
      );
    }
  });
});

describe('Windows hand-over launch', () => {
  test(`${MOCK}: runs powershell.exe -File, hidden by default`, () => {
    const { command, args } = handoverCommand('C:\\t\\s.ps1', 'C:\\t\\log');
    assert.equal(command, 'powershell.exe');
    assert.deepEqual(args, [
      '-NoProfile',
      '-NonInteractive',
      '-ExecutionPolicy',
      'Bypass',
      '-WindowStyle',
      'Hidden',
      '-File',
      'C:\\t\\s.ps1',
    ]);
    assert.ok(!handoverCommand('s.ps1', 'log', { hidden: false }).args.includes('Hidden'));
  });

  test(`${MOCK}: elevate wraps the call in Start-Process -Verb RunAs, passed as -EncodedCommand`, () => {
    const scriptPath = "C:\\Temp dir\\it's\\s.ps1";
    const { args } = handoverCommand(scriptPath, 'C:\\log', { elevate: true });
    assert.equal(args.at(-2), '-EncodedCommand');
    const outer = Buffer.from(args.at(-1) as string, 'base64').toString('utf16le');
    const startLine = outer.split('\r\n').find((l) => l.includes('Start-Process')) as string;
    assert.match(
      startLine,
      /Start-Process -FilePath 'powershell\.exe' -Verb RunAs -WindowStyle Hidden -ArgumentList '/,
    );
    const { value, end } = readLiteral(
      startLine,
      startLine.indexOf("-ArgumentList '") + '-ArgumentList '.length,
    );
    assert.equal(end, startLine.length);
    assert.equal(
      value,
      `-NoProfile -NonInteractive -ExecutionPolicy Bypass -WindowStyle Hidden -File "${scriptPath}"`,
    );
  });

  let root: string;
  let cleanup: () => Promise<void>;
  before(async () => {
    ({ dir: root, cleanup } = await tempDir());
  });
  after(() => cleanup());

  test(`${MOCK}: start() spawns detached and hidden, then unrefs (fake spawn)`, async () => {
    const calls: { command: string; args: readonly string[]; options: object }[] = [];
    let unref = 0;
    const spawnProcess: SpawnFunction = (command, args, options) => {
      calls.push({ command, args, options });
      const child = Object.assign(new EventEmitter(), { unref: () => void unref++ });
      setImmediate(() => child.emit('spawn'));
      return child as unknown as ReturnType<SpawnFunction>;
    };
    const handover = await writeWindowsHandover({ ...BASE, helper: 'powershell', dir: root, spawnProcess });
    await handover.start();
    assert.equal(calls.length, 1);
    assert.deepEqual(calls[0]?.options, { detached: true, windowsHide: true, stdio: 'ignore' });
    assert.equal(calls[0]?.args.at(-1), handover.scriptPath);
    assert.equal(unref, 1);
    const text = await readFile(handover.scriptPath, 'utf8');
    assert.ok(text.startsWith('\uFEFF'), 'a BOM, so Windows PowerShell 5.1 reads the script as UTF-8');
  });

  test(`${MOCK}: start() reports a spawn failure as INSTALL_FAILED`, async () => {
    const spawnProcess: SpawnFunction = () => {
      const child = Object.assign(new EventEmitter(), { unref: () => undefined });
      setImmediate(() =>
        child.emit('error', Object.assign(new Error('spawn powershell.exe ENOENT'), { code: 'ENOENT' })),
      );
      return child as unknown as ReturnType<SpawnFunction>;
    };
    const handover = await writeWindowsHandover({
      ...BASE,
      helper: 'powershell',
      dir: join(root, 'fail'),
      spawnProcess,
    });
    await assert.rejects(handover.start(), (e: unknown) => isNotsotufError(e, 'INSTALL_FAILED'));
  });

  test(`${MOCK}: inPlaceStrategy on win32 returns a hand-over whose script names the dirs (start() not called)`, async (t) => {
    const installDir = join(root, "install dir's");
    const sourceDir = join(root, 'source');
    await buildTree(installDir, { 'app.exe': 'v1' });
    await buildTree(sourceDir, { 'app.exe': 'v2' });
    const steps: number[] = [];
    const strategy = inPlaceStrategy({
      platform: 'win32',
      purge: true,
      exclude: ['logs'],
      handover: {
        helper: 'powershell',
        pid: 777,
        restart: { command: join(installDir, 'app.exe'), args: [] },
      },
    });
    assert.equal(strategy.name, 'in-place');
    const outcome = await strategy.install({
      installDir,
      sourceDir,
      version: '2.0.0',
      onStep: (s) => steps.push(s.index),
    });
    assert.equal(outcome.kind, 'handover');
    if (outcome.kind !== 'handover') return;
    t.after(() => rm(dirname(outcome.handover.scriptPath), { recursive: true, force: true }));
    assert.deepEqual(steps, [1, 2]);
    assert.equal(dirname(outcome.handover.logFile), dirname(outcome.handover.scriptPath));
    const values = headerValues((await readFile(outcome.handover.scriptPath, 'utf8')).slice(1));
    assert.equal(values['InstallDir'], installDir);
    assert.equal(values['SourceDir'], sourceDir);
    assert.equal(values['Version'], '2.0.0');
    assert.equal(values['LogFile'], outcome.handover.logFile);
    assert.equal(
      values['BackupDir'],
      join(dirname(outcome.handover.scriptPath), 'backup'),
      'outside the install dir',
    );
    assert.equal(
      await readFile(join(installDir, 'app.exe'), 'utf8'),
      'v1',
      'nothing is installed before the hand-over',
    );
  });

  test(`${MOCK}: inPlaceStrategy on win32 still checks the install dir exists`, async () => {
    const strategy = inPlaceStrategy({ platform: 'win32' });
    await assert.rejects(
      strategy.install({ installDir: join(root, 'nope'), sourceDir: root, version: '2.0.0' }),
      (e: unknown) => isNotsotufError(e, 'INSTALL_FAILED'),
    );
  });
});
