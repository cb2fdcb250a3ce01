/** The stderr owner shared by progress bars, prompts and messages (src/cli/terminal.ts): what reaches the screen. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { StderrTerminal } from '../../src/cli/terminal.js';

type Step = (t: StderrTerminal) => void | Promise<void>;

/** Runs the steps on a terminal that records every write. */
async function written(steps: Step[]): Promise<string> {
  let out = '';
  const terminal = new StderrTerminal({ write: (text: string) => (out += text) });
  for (const step of steps) await step(terminal);
  return out;
}

const CASES: { name: string; steps: Step[]; expected: string }[] = [
  {
    name: 'a bar draws in place and ends with a line break',
    steps: [(t) => t.drawLive('bar 1'), (t) => t.drawLive('bar 2'), (t) => t.endLive()],
    expected: '\rbar 1\x1b[K\rbar 2\x1b[K\n',
  },
  {
    name: 'a message goes above the live bar, which is drawn again below it',
    steps: [(t) => t.drawLive('bar'), (t) => t.writeLines('warning: x\n')],
    expected: '\rbar\x1b[K\r\x1b[2Kwarning: x\nbar\x1b[K',
  },
  {
    name: 'without a live bar, messages and prompts are written as they are',
    steps: [(t) => t.writeLines('hello\n'), (t) => t.prompt(async () => void 0), (t) => t.endLive()],
    expected: 'hello\n',
  },
  {
    name: 'a prompt clears the bar line, bar updates wait, and the latest bar comes back after the answer',
    steps: [
      (t) => t.drawLive('bar 50%'),
      (t) =>
        t.prompt(async () => {
          t.drawLive('bar 80%');
          t.drawLive('bar 90%');
        }),
    ],
    expected: '\rbar 50%\x1b[K\r\x1b[2Kbar 90%\x1b[K',
  },
  {
    name: 'a bar that ends during a prompt is not drawn again',
    steps: [
      (t) => t.drawLive('bar'),
      (t) => t.prompt(async () => t.endLive()),
      (t) => t.writeLines('next\n'),
    ],
    expected: '\rbar\x1b[K\r\x1b[2Knext\n',
  },
];

describe('StderrTerminal', () => {
  for (const c of CASES) {
    test(c.name, async () => {
      assert.equal(JSON.stringify(await written(c.steps)), JSON.stringify(c.expected));
    });
  }

  test('the prompt gets what the ask function returns, and a failing ask still gives the bar back', async () => {
    let out = '';
    const t = new StderrTerminal({ write: (text: string) => (out += text) });
    t.drawLive('bar');
    assert.equal(await t.prompt(async () => 'answer'), 'answer');
    await assert.rejects(
      t.prompt(async () => {
        throw new Error('no tty');
      }),
      /no tty/,
    );
    assert.equal(out.endsWith('bar\x1b[K'), true);
  });
});
