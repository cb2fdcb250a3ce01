import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { tempDir } from './files.js';
import { CLI_PATH, cli } from './run-cli.js';

/** `script` (util-linux) runs a command on a pseudo-terminal: the only way to test a real TTY prompt. */
const hasScript = spawnSync('script', ['--version']).status === 0;

/**
 * Runs `notsotuf <args>` on a pseudo-terminal and answers every passphrase prompt with `answer` as it appears,
 * the way a person would. Returns everything the terminal showed and the exit code.
 */
function onTerminal(
  args: string[],
  cwd: string,
  answer: (promptIndex: number) => string,
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
    const prompts = (screen.match(/(Passphrase for key|Repeat the passphrase for) "[^"]+": /g) ?? []).length;
    while (answered < prompts) {
      child.stdin.write(`${answer(answered)}\r`);
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
    const prompts = r.screen.match(/(Passphrase for key|Repeat the passphrase for) "[^"]+": /g) ?? [];
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
});
