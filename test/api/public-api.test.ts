/**
 * The public surface is deliberate: `api/notsotuf.api.md` (checked in) must be what the build exports, so a change
 * to the API is a reviewed diff of that file; and typedoc, with warnings as errors, finds no type that an exported
 * signature uses without exporting it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { apiReport, REPORT_PATH } from '../../scripts/api-report.mjs';
import { assertBuilt, PROJECT_ROOT } from '../cli/run-cli.js';

describe('the public API', { timeout: 180_000 }, () => {
  it('is the checked-in report (run npm run api:report and review the diff when it changes)', () => {
    assertBuilt();
    const report = apiReport();
    const lines = (text: string) => text.split('\n');
    const checkedIn = readFileSync(REPORT_PATH, 'utf8');
    // Compare line lists, so a failure shows which declarations changed.
    assert.deepEqual(lines(report), lines(checkedIn));
    for (const entry of ['notsotuf', 'notsotuf/client', 'notsotuf/repo', 'notsotuf/core']) {
      assert.ok(report.includes(`## ${entry}\n`), `${entry} is in the report`);
    }
    assert.match(report, /## notsotuf\/core\n\nThe same exports as `notsotuf`/);
  });

  it('exports every type its signatures use (typedoc, warnings as errors)', () => {
    const typedoc = join(PROJECT_ROOT, 'node_modules', 'typedoc', 'bin', 'typedoc');
    const run = spawnSync(process.execPath, [typedoc, '--emit', 'none'], {
      cwd: PROJECT_ROOT,
      encoding: 'utf8',
    });
    const output = `${run.stdout}${run.stderr}`.replace(/\x1b\[[0-9;]*m/g, '');
    assert.equal(run.status, 0, output);
    assert.doesNotMatch(output, /\[warning\]/);
  });
});
