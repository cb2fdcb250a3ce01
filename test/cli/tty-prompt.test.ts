import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { makeBundle, tempDir } from './files.js';
import { CLI_PATH, cli } from './run-cli.js';

/** `script` (util-linux) runs a command on a pseudo-terminal: the only way to test a real TTY prompt. */
const hasScript = spawnSync('script', ['--version']).status === 0;

/** Every passphrase prompt the CLI shows: per key, for a shared repository's keys, and their repeats. */
const PROMPT =
  /(?:Passphrase|Repeat the passphrase|New passphrase) for (?:key "[^"]+"|"[^"]+"|the keys of this repository): /g;

/** The prompts in a screen, in order. */
function promptsOf(screen: string): string[] {
  return screen.match(PROMPT) ?? [];
}

/**
 * The lines a terminal shows after `raw` was written to it: `\r` returns to the line start, `ESC[nG` moves to
 * column n, `ESC[2K` clears the line, `ESC[K` and `ESC[J` clear from the cursor on, and other text overwrites what
 * is under the cursor.
 */
function renderScreen(raw: string): string[] {
  const lines: string[] = [''];
  let col = 0;
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i]!;
    const row = lines.length - 1;
    const csi = /^\x1b\[(\d*)([A-Za-z])/.exec(raw.slice(i, i + 8));
    if (csi) {
      const [seq, n, op] = csi as unknown as [string, string, string];
      if (op === 'G') col = Math.max(0, Number(n || '1') - 1);
      else if (op === 'K' || op === 'J') {
        if (n === '2') lines[row] = '';
        else lines[row] = lines[row]!.slice(0, col);
      }
      i += seq.length - 1;
    } else if (ch === '\r') col = 0;
    else if (ch === '\n') {
      lines.push('');
      col = 0;
    } else {
      const line = lines[row]!.padEnd(col);
      lines[row] = line.slice(0, col) + ch + line.slice(col + 1);
      col++;
    }
  }
  return lines;
}

/**
 * Runs `notsotuf <args>` on a pseudo-terminal and answers every passphrase prompt with `answer` as it appears,
 * the way a person would. Returns everything the terminal showed and the exit code.
 */
function onTerminal(
  args: string[],
  cwd: string,
  answer: (promptIndex: number, prompt: string) => string,
): Promise<{ code: number | null; screen: string }> {
  const command = [process.execPath, CLI_PATH, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('NOTSOTUF_')));
  const child = spawn('script', ['-qec', command, '/dev/null'], {
    cwd,
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let screen = '';
  let answered = 0;
  const onOutput = (chunk: Buffer) => {
    screen += chunk.toString('utf8');
    // Answer each prompt once: count prompts seen so far against answers given.
    const prompts = promptsOf(screen);
    while (answered < prompts.length) {
      child.stdin.write(`${answer(answered, prompts[answered]!)}\r`);
      answered++;
    }
  };
  child.stdout.on('data', onOutput);
  child.stderr.on('data', onOutput);
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) => {
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, screen });
    });
  });
}

describe('passphrase prompt on a terminal', {
  skip: hasScript ? false : 'util-linux `script` is not installed',
}, () => {
  test('init asks twice per new key, without echo, and signs without asking again', async () => {
    const cwd = await tempDir();
    const secret = 'typed at the terminal';
    const r = await onTerminal(['init', '--app', 'tty_app'], cwd, () => secret);
    assert.equal(r.code, 0, r.screen);
    const prompts = promptsOf(r.screen);
    assert.equal(prompts.length, 8, `two prompts for each of the four keys:\n${r.screen}`);
    assert.ok(!r.screen.includes(secret), 'the passphrase is never echoed');
    const key = JSON.parse(await readFile(join(cwd, 'keystore', 'targets'), 'utf8')) as Record<
      string,
      unknown
    >;
    assert.equal(key['notsotuf_private_key'], 1);
    // The keys really are encrypted with what was typed: a later run decrypts them with it.
    const status = await cli(['verify'], { cwd, env: { NOTSOTUF_PASSPHRASE: secret } });
    assert.match(status.stdout, /^ok: root v1/);
    // One passphrase per key, but the same one typed for all: the passphrase that opened targets is tried on
    // snapshot and timestamp before asking, so the release asks once.
    const bundle = join(cwd, 'bundle');
    await makeBundle(bundle, '1.0.0');
    const release = await onTerminal(['release', 'add', bundle, '--version', '1.0.0'], cwd, () => secret);
    assert.equal(release.code, 0, release.screen);
    assert.deepEqual(promptsOf(release.screen), ['Passphrase for key "targets": '], release.screen);
  });

  test('mismatched repeat: INVALID_ARGUMENT, no config, no keys left', async () => {
    const cwd = await tempDir();
    const r = await onTerminal(['init', '--app', 'tty_app'], cwd, (i) => (i === 0 ? 'first' : 'second'));
    assert.equal(r.code, 1, r.screen);
    assert.match(r.screen, /INVALID_ARGUMENT: The two passphrases differ/);
    // No config and no key file: at most the empty key directory.
    const left = spawnSync('find', [cwd, '-type', 'f'], { encoding: 'utf8' }).stdout.trim();
    assert.equal(left, '', `files left behind: ${left}`);
  });

  describe('one passphrase for all keys', () => {
    const secret = 'one for the whole repository';
    let cwd: string;
    let bundles: string;

    test('init --one-passphrase asks twice in all', async () => {
      cwd = await tempDir();
      bundles = await tempDir();
      for (const v of ['1.0.0', '1.1.0', '2.0.0']) await makeBundle(join(bundles, v), v);
      const r = await onTerminal(['init', '--app', 'tty_app', '--one-passphrase'], cwd, () => secret);
      assert.equal(r.code, 0, r.screen);
      assert.deepEqual(promptsOf(r.screen), [
        'New passphrase for the keys of this repository: ',
        'Repeat the passphrase for the keys of this repository: ',
      ]);
      assert.ok(!r.screen.includes(secret), 'the passphrase is never echoed');
      const status = await cli(['verify'], { cwd, env: { NOTSOTUF_PASSPHRASE: secret } });
      assert.match(status.stdout, /^ok: root v1/);
    });

    test('release add asks once, on a line of its own: the progress bar steps aside and comes back', async () => {
      const r = await onTerminal(
        ['release', 'add', join(bundles, '1.0.0'), '--version', '1.0.0'],
        cwd,
        () => secret,
      );
      assert.equal(r.code, 0, r.screen);
      // targets, snapshot and timestamp all sign with the one passphrase, typed once.
      assert.deepEqual(promptsOf(r.screen), ['Passphrase for the keys of this repository: '], r.screen);
      const at = r.screen.indexOf('Passphrase for the keys');
      // The archive bar was live when the keys were needed: its line was cleared (ESC[2K) for the prompt (then
      // readline moves to the line start itself).
      assert.match(
        r.screen.slice(0, at),
        /archiving \[#+\]\s+100%[^\n]*\r\x1b\[2K(?:\x1b\[\d*[A-Za-z])*$/,
        JSON.stringify(r.screen),
      );
      const lines = renderScreen(r.screen);
      // Only the prompt is on its line: no bar before it, and no escape codes left over after it.
      const promptLines = lines.filter((l) => l.includes('Passphrase'));
      assert.deepEqual(promptLines, ['Passphrase for the keys of this repository: '], lines.join('\n'));
      // ... and the bar is drawn again below the answered prompt, on its own line.
      const promptRow = lines.indexOf(promptLines[0]!);
      assert.match(lines[promptRow + 1] ?? '', /^archiving \[#+\]\s+100% /, lines.join('\n'));
      assert.ok(!r.screen.includes(secret), 'the passphrase is never echoed');
    });

    test('a wrong passphrase is asked again', async () => {
      const r = await onTerminal(
        ['release', 'add', join(bundles, '1.1.0'), '--version', '1.1.0'],
        cwd,
        (i) => (i === 0 ? 'a typo' : secret),
      );
      assert.equal(r.code, 0, r.screen);
      assert.equal(promptsOf(r.screen).length, 2, r.screen);
      assert.match(r.screen, /Wrong passphrase for key "targets"; try again \(2 more tries\)/);
    });

    test('three wrong passphrases: KEY_DECRYPT_FAILED with a hint, nothing written', async () => {
      const r = await onTerminal(
        ['release', 'add', join(bundles, '2.0.0'), '--version', '2.0.0'],
        cwd,
        () => 'wrong',
      );
      assert.equal(r.code, 1, r.screen);
      assert.equal(promptsOf(r.screen).length, 3, r.screen);
      assert.match(r.screen, /error KEY_DECRYPT_FAILED: Wrong passphrase for key "targets" \(3 attempts\)/);
      assert.match(r.screen, /hint: Check the passphrase/);
      const list = await cli(['release', 'list'], { cwd });
      assert.doesNotMatch(list.stdout, /2\.0\.0/);
    });
  });

  test('keys passphrase --shared: each old passphrase once, the new one twice, then one prompt per command', async () => {
    const cwd = await tempDir();
    const own = (prompt: string) => `own passphrase of ${/"([^"]+)"/.exec(prompt)?.[1]}`;
    const init = await onTerminal(['init', '--app', 'tty_app'], cwd, (_i, prompt) => own(prompt));
    assert.equal(init.code, 0, init.screen);
    const fresh = 'shared from now on';
    const r = await onTerminal(['keys', 'passphrase', '--shared'], cwd, (_i, prompt) =>
      prompt.includes('the keys of this repository') ? fresh : own(prompt),
    );
    assert.equal(r.code, 0, r.screen);
    assert.deepEqual(
      promptsOf(r.screen),
      [
        'Passphrase for key "root": ',
        'Passphrase for key "snapshot": ',
        'Passphrase for key "targets": ',
        'Passphrase for key "timestamp": ',
        'New passphrase for the keys of this repository: ',
        'Repeat the passphrase for the keys of this repository: ',
      ],
      r.screen,
    );
    const bundle = join(cwd, 'bundle');
    await makeBundle(bundle, '1.0.0');
    const release = await onTerminal(['release', 'add', bundle, '--version', '1.0.0'], cwd, () => fresh);
    assert.equal(release.code, 0, release.screen);
    assert.deepEqual(promptsOf(release.screen), ['Passphrase for the keys of this repository: ']);
  });
});
