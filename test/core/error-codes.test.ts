/**
 * Every error code, from the one list in `core/errors.ts` (ERROR_CODES; the ErrorCode type is its keys): each has
 * a hint, a section in docs/errors.md that lists it, and a place in src that reports it (or it is marked reserved).
 * A code added to the list without docs, or documented without being in the list, fails here.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, test } from 'node:test';
import { ERROR_CODES, type ErrorCode, type ErrorCodeInfo } from '../../src/core/errors.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const DOCS = 'docs/errors.md';
const codes = Object.keys(ERROR_CODES) as ErrorCode[];
const info = (code: ErrorCode): ErrorCodeInfo => ERROR_CODES[code];

/** GitHub's anchor of a heading: lowercase, punctuation dropped, spaces to dashes. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

/** The `## ` sections of a markdown file by anchor, each with the codes its table rows start with. */
function sections(markdown: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  let current: Set<string> | undefined;
  for (const line of markdown.split('\n')) {
    const heading = /^## (.+)$/.exec(line);
    if (heading) {
      current = new Set();
      out.set(slug(heading[1] as string), current);
    }
    const row = /^\| `([A-Z][A-Z0-9_]*)` \|/.exec(line);
    if (row && current) current.add(row[1] as string);
  }
  return out;
}

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await sourceFiles(path)));
    else if (entry.name.endsWith('.ts')) out.push(path);
  }
  return out;
}

describe('ERROR_CODES', () => {
  test('the type and the list are one: a code outside the list does not compile', () => {
    const internal: ErrorCode = 'INTERNAL_ERROR';
    // @ts-expect-error: not a code
    const unknown: ErrorCode = 'NOT_A_CODE';
    assert.ok(internal in ERROR_CODES && !(unknown in ERROR_CODES));
  });

  test('codes are UPPER_SNAKE_CASE and unique', () => {
    for (const code of codes) assert.match(code, /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/, code);
    assert.equal(new Set(codes).size, codes.length);
  });

  for (const code of codes) {
    test(`${code}: a hint that says what to do`, () => {
      const { hint } = info(code);
      assert.ok(hint.trim().length >= 10, `${code} needs a hint`);
      assert.match(hint, /[.!]$/, `${code}: the hint is a sentence`);
    });
  }
});

describe('documentation of every code', async () => {
  const docs = sections(await readFile(join(ROOT, DOCS), 'utf8'));

  for (const code of codes) {
    test(`${code} is listed in its section of ${DOCS}`, () => {
      const [file, anchor] = info(code).docs.split('#');
      assert.equal(file, DOCS, `${code}: docs point into ${DOCS}`);
      const section = docs.get(anchor ?? '');
      assert.ok(
        section,
        `${code}: ${DOCS} has no section #${anchor} (sections: ${[...docs.keys()].join(', ')})`,
      );
      assert.ok(section.has(code), `${code}: missing from the table of ${DOCS}#${anchor}`);
    });
  }

  test(`${DOCS} documents no code that does not exist`, () => {
    const documented = [...docs.values()].flatMap((s) => [...s]);
    assert.deepEqual(
      documented.filter((c) => !(c in ERROR_CODES)),
      [],
    );
    assert.equal(documented.length, new Set(documented).size, 'each code is documented once');
  });

  test("the README's error table names only real codes", async () => {
    const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
    const table = readme.slice(readme.indexOf('### Errors'), readme.indexOf('### How the client decides'));
    const named = [...table.matchAll(/^\| ((?:`[A-Z_]+`(?:, )?)+) \|/gm)].flatMap((m) =>
      [...(m[1] as string).matchAll(/`([A-Z_]+)`/g)].map((c) => c[1] as string),
    );
    assert.ok(named.length > 10, 'the README table was found');
    assert.deepEqual(
      named.filter((c) => !(c in ERROR_CODES)),
      [],
    );
    assert.ok(table.includes(DOCS), `the README links to ${DOCS}`);
  });
});

describe('every code is reported somewhere (or reserved)', async () => {
  const files = (await sourceFiles(join(ROOT, 'src'))).filter((f) => !f.endsWith(join('core', 'errors.ts')));
  const text = new Map(await Promise.all(files.map(async (f) => [f, await readFile(f, 'utf8')] as const)));
  const usedIn = (code: ErrorCode) =>
    [...text].filter(([, t]) => t.includes(`'${code}'`)).map(([f]) => relative(ROOT, f));

  for (const code of codes) {
    const reserved = info(code).reserved === true;
    test(`${code} ${reserved ? 'is reserved and unused' : 'is used in src'}`, () => {
      const used = usedIn(code);
      if (reserved) assert.deepEqual(used, [], `${code} is used now: drop its reserved mark`);
      else assert.ok(used.length > 0, `${code} is never reported: use it, or mark it reserved`);
    });
  }
});
