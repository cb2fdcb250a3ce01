/**
 * Hostile JSON for the parsers of custom metadata, key files, the config and TUF metadata: hostile keys, the
 * format's own field names, edge-case numbers, deep nesting, and valid documents with a few hostile edits.
 */
import fc from 'fast-check';

/** Keys that trip naive object handling, plus the field names of every format under test. */
const HOSTILE_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'valueOf',
  'toJSON',
  'hasOwnProperty',
  'length',
  'then',
  '',
];

/** A JSON number text: integers at the safe-integer edges, floats, exponents that overflow to Infinity. */
const numberText = fc.oneof(
  fc.constantFrom(
    '0',
    '-0',
    '1',
    '-1',
    '1.5',
    '2.0',
    '1e400',
    '-1e400',
    '1e21',
    '0.1',
    '9007199254740991',
    '9007199254740992',
    '9007199254740993',
    '-9007199254740993',
    '1099511627776',
    '16384',
  ),
  fc.integer().map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => JSON.stringify(d)),
);

function stringText(extra: readonly string[]): fc.Arbitrary<string> {
  return fc
    .oneof(
      fc.string({ maxLength: 20 }),
      fc.string({ unit: 'grapheme', maxLength: 12 }),
      fc.string({ unit: 'binary', maxLength: 12 }),
      fc.constantFrom(...extra, 'a'.repeat(64), 'A'.repeat(64), '0'.repeat(128), 'ed25519', 'sha256'),
    )
    .map((s) => JSON.stringify(s));
}

/**
 * JSON texts (parsed by the property, so `__proto__` becomes an own key as it does in real files) built from
 * hostile keys, the format's own field names, edge-case numbers and deep nesting.
 */
export function hostileJsonText(
  fieldNames: readonly string[],
  scale: number,
  values: readonly string[] = [],
) {
  const key = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...fieldNames, ...HOSTILE_KEYS) },
    { weight: 1, arbitrary: fc.string({ maxLength: 10 }) },
  );
  const scalar = fc.oneof(fc.constantFrom('null', 'true', 'false'), numberText, stringText(values));
  // Deep enough to overflow any recursive walk (JSON.stringify gives up near 5000 levels; JSON.parse does not).
  const deep = fc
    .oneof(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1000, max: 20_000 * scale }))
    .chain((n) =>
      fc.constantFrom(`${'['.repeat(n)}${']'.repeat(n)}`, `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`),
    );
  const { value } = fc.letrec<{ value: string; array: string; object: string }>((tie) => ({
    value: fc.oneof(
      { depthSize: 'small', maxDepth: 4 },
      { weight: 4, arbitrary: scalar },
      { weight: 2, arbitrary: tie('object') },
      { weight: 1, arbitrary: tie('array') },
    ),
    array: fc.array(tie('value'), { maxLength: 5 }).map((xs) => `[${xs.join(',')}]`),
    object: fc
      .array(
        fc.tuple(key, fc.oneof({ weight: 10, arbitrary: tie('value') }, { weight: 1, arbitrary: deep })),
        {
          maxLength: 7,
        },
      )
      .map(objectText),
  }));
  return fc.oneof(
    { weight: 8, arbitrary: value },
    { weight: 1, arbitrary: deep },
    {
      weight: 1,
      arbitrary: fc.constant('{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":1}}}'),
    },
  );
}

/** A JSON object text from `[key, valueText]` entries (duplicate keys kept, as a hostile file may have them). */
export function objectText(entries: ReadonlyArray<readonly [string, string]>): string {
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`;
}

/** One hostile edit of a JSON document: where (`steps` down the tree), what, and the replacement's text. */
export interface JsonEdit {
  steps: number[];
  op: 'replace' | 'delete' | 'add';
  replacement: string;
  key: string;
}

/**
 * Replaces, deletes or adds one value somewhere in a JSON tree (in place), walking down by `steps`: a valid
 * document with one hostile edit gets past the first checks that fully random input stops at.
 */
function editJson(
  root: unknown,
  steps: readonly number[],
  op: JsonEdit['op'],
  replacement: unknown,
  key: string,
): unknown {
  let parent: unknown;
  let parentKey: string | number | undefined;
  let node: unknown = root;
  for (const step of steps) {
    if (Array.isArray(node) && node.length > 0) {
      parent = node;
      parentKey = step % node.length;
      node = node[parentKey];
    } else if (typeof node === 'object' && node !== null && Object.keys(node).length > 0) {
      const keys = Object.keys(node);
      parent = node;
      parentKey = keys[step % keys.length]!;
      node = (node as Record<string, unknown>)[parentKey];
    } else break;
  }
  if (op === 'add' && typeof node === 'object' && node !== null && !Array.isArray(node)) {
    Object.defineProperty(node, key, {
      value: replacement,
      enumerable: true,
      writable: true,
      configurable: true,
    });
    return root;
  }
  if (parent === undefined || parentKey === undefined) return op === 'delete' ? {} : replacement;
  if (op === 'delete') {
    if (Array.isArray(parent)) parent.splice(parentKey as number, 1);
    else delete (parent as Record<string, unknown>)[parentKey];
  } else {
    Object.defineProperty(parent, parentKey, {
      value: replacement,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return root;
}

export function jsonEditArb(fieldNames: readonly string[], scale: number): fc.Arbitrary<JsonEdit> {
  return fc.record({
    steps: fc.array(fc.nat(), { maxLength: 6 }),
    op: fc.oneof(
      { weight: 2, arbitrary: fc.constant('replace' as const) },
      { weight: 1, arbitrary: fc.constant('delete' as const) },
      { weight: 3, arbitrary: fc.constant('add' as const) },
    ),
    replacement: hostileJsonText(fieldNames, scale),
    key: fc.oneof(fc.constantFrom(...fieldNames, ...HOSTILE_KEYS), fc.string({ maxLength: 8 })),
  });
}

function applyJsonEdits(doc: unknown, edits: readonly JsonEdit[]): unknown {
  let out = structuredClone(doc);
  for (const e of edits) out = editJson(out, e.steps, e.op, JSON.parse(e.replacement), e.key);
  return out;
}

/**
 * A JSON input kept printable: raw text, or a base document plus edits (applied when the property runs), so
 * that fast-check reports a counterexample as text instead of stringifying a deeply nested object.
 */
export type JsonCase = { text: string } | { base: unknown; edits: JsonEdit[] };

/** {@link hostileJsonText} as a {@link JsonCase}. */
export function hostileJsonCase(fieldNames: readonly string[], scale: number): fc.Arbitrary<JsonCase> {
  return hostileJsonText(fieldNames, scale).map((text): JsonCase => ({ text }));
}

/** The value of a {@link JsonCase}, built afresh for each run. */
export function jsonOf(c: JsonCase): unknown {
  return 'text' in c ? JSON.parse(c.text) : applyJsonEdits(c.base, c.edits);
}
