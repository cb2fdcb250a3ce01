/** Fuzzing of the repository config (src/repo/config.ts): parsing JSON, loading files, and the round trip. */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { validateAppName } from '../../../src/core/target-name.js';
import { loadConfig, parseConfig, serializeConfig } from '../../../src/repo/config.js';
import { ROLE_NAMES } from '../../../src/tuf/metadata.js';
import {
  assertNoPrototypePollution,
  type ErrorExpectation,
  type FuzzArea,
  outcomeOf,
  outcomeOfSync,
  stringifiable,
} from './common.js';
import { hostileJsonCase, type JsonCase, jsonEditArb, jsonOf } from './hostile-json.js';

const CONFIG_FIELDS = [
  'notsotuf_config',
  'app_name',
  'repo_dir',
  'keys_dir',
  'key_map',
  'thresholds',
  'expiration_days',
  'consistent_snapshot',
  'encrypt_new_keys',
  'passphrase',
  'encrypted_keys',
  'root',
  'targets',
  'snapshot',
  'timestamp',
];

/** Config objects, mostly valid (so the round trip is exercised), with an invalid value here and there. */
function configDocArb(): fc.Arbitrary<Record<string, unknown>> {
  const often = <T, U>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<U>) =>
    fc.oneof({ weight: 12, arbitrary: good }, { weight: 1, arbitrary: bad });
  const keyName = often(
    fc.stringMatching(/^[A-Za-z0-9_-]{1,10}$/),
    fc.constantFrom('', 'a b', '../k', 'x'.repeat(65)),
  );
  const roleNumber = often(fc.constant(1), fc.constantFrom(0, -1, 1.5, 2, 100, 101, 36500, 36501, '1'));
  const days = often(fc.integer({ min: 1, max: 36500 }), fc.constantFrom(0, -1, 1.5, 36501, null));
  const roles = <T>(v: fc.Arbitrary<T>, required: boolean) =>
    fc.record(
      { root: v, targets: v, snapshot: v, timestamp: v },
      required ? { requiredKeys: ['root', 'targets', 'snapshot', 'timestamp'] } : { requiredKeys: [] },
    );
  return fc.record(
    {
      notsotuf_config: often(fc.constant(1), fc.constantFrom(2, '1', null)),
      app_name: often(
        fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_-]{0,10}$/),
        fc.constantFrom('', 'my.app', 7, null),
      ),
      repo_dir: often(fc.constantFrom('repository', 'repo/x', '.'), fc.constantFrom('', 'a\u0000b', 5)),
      keys_dir: often(fc.constantFrom('keystore', '../keys', '/abs/keys'), fc.constantFrom('', [], {})),
      key_map: often(
        roles(fc.array(keyName, { minLength: 1, maxLength: 3 }), true),
        roles(fc.array(keyName, { maxLength: 3 }), false),
      ),
      thresholds: roles(roleNumber, false),
      expiration_days: roles(days, false),
      consistent_snapshot: fc.constantFrom(true, false, 'no'),
      encrypt_new_keys: fc.constantFrom(true, false, 0),
      passphrase: often(fc.constantFrom('per-key', 'shared'), fc.constantFrom('both', 1, null)),
      encrypted_keys: fc.constantFrom([], ['root'], 'yes'),
      extra_field: fc.jsonValue({ maxDepth: 2 }),
    },
    { requiredKeys: ['app_name', 'key_map'] },
  );
}

/** CONFIG_INVALID; it wraps JSON.parse's SyntaxError, and the TypeError of `String()` on a hostile app_name. */
const CONFIG_CODES: ErrorExpectation = { codes: ['CONFIG_INVALID'], foreignCause: true };

function checkConfig(loaded: ReturnType<typeof parseConfig>, json: Record<string, unknown>): void {
  const c = loaded.config;
  assert.equal(validateAppName(c.app_name), c.app_name);
  assert.equal(loaded.flavor, json['notsotuf_config'] === undefined ? 'tufup' : 'notsotuf');
  for (const role of ROLE_NAMES) {
    const keys = c.key_map[role];
    assert.ok(keys.length >= 1 && keys.every((k) => /^[A-Za-z0-9_-]{1,64}$/.test(k)));
    assert.equal(new Set(keys).size, keys.length, 'no duplicate keys');
    assert.ok(
      Number.isInteger(c.thresholds[role]) && c.thresholds[role] >= 1 && c.thresholds[role] <= keys.length,
    );
    assert.ok(
      Number.isInteger(c.expiration_days[role]) &&
        c.expiration_days[role] >= 1 &&
        c.expiration_days[role] <= 36500,
    );
  }
  assert.ok(c.passphrase === 'per-key' || c.passphrase === 'shared');
  if (loaded.flavor === 'tufup')
    assert.equal(c.passphrase, 'per-key', 'tufup configs have no shared passphrase');
  assert.ok(typeof c.repo_dir === 'string' && c.repo_dir.length > 0 && !c.repo_dir.includes('\0'));
  assert.ok(typeof c.keys_dir === 'string' && c.keys_dir.length > 0 && !c.keys_dir.includes('\0'));
  for (const k of Object.keys(loaded.extra))
    assert.ok(!['app_name', 'key_map', 'thresholds', 'notsotuf_config'].includes(k));
  // Writing the config back and reading it again gives the same config, unless it is nested too deeply for any
  // JSON writer (JSON.stringify itself refuses it).
  if (stringifiable(json) === undefined) return;
  const again = parseConfig(JSON.parse(serializeConfig(loaded)), loaded.path);
  assert.deepEqual(again.config, c);
  assert.equal(again.flavor, loaded.flavor);
}

export const configProperties: FuzzArea = ({ ws, scale }) => {
  const edits = fc.array(jsonEditArb(CONFIG_FIELDS, scale), { maxLength: 2 });
  return [
    {
      name: 'config: parseConfig on arbitrary JSON (valid configs round-trip)',
      testRuns: 300,
      weight: 1,
      property: fc.property(
        fc.oneof(
          hostileJsonCase(CONFIG_FIELDS, scale),
          fc.tuple(configDocArb(), edits).map(([base, es]): JsonCase => ({ base, edits: es })),
        ),
        (input) => {
          const json = jsonOf(input);
          const r = outcomeOfSync(() => parseConfig(json, '/fuzz/notsotuf.json'), CONFIG_CODES);
          assertNoPrototypePollution();
          if (r.ok) checkConfig(r.value, json as Record<string, unknown>);
        },
      ),
    },
    {
      name: 'config: loadConfig on arbitrary file bytes',
      testRuns: 100,
      weight: 1,
      property: fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 500 }),
          fc
            .tuple(configDocArb(), fc.constantFrom('', '\ufeff', ' \n'))
            .map(([doc, prefix]) => Buffer.from(prefix + JSON.stringify(doc))),
          fc
            .tuple(
              configDocArb(),
              fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), {
                minLength: 1,
                maxLength: 3,
              }),
            )
            .map(([doc, ms]) => {
              const b = Buffer.from(JSON.stringify(doc));
              for (const m of ms) b[m.at % b.length] = m.value;
              return b;
            }),
        ),
        fc.constantFrom('notsotuf.json', '.tufup-repo-config', undefined),
        async (bytes, name) =>
          ws.run('config', async (d) => {
            await writeFile(join(d, name ?? 'notsotuf.json'), bytes);
            const r = await outcomeOf(() => loadConfig(name, d), CONFIG_CODES);
            if (r.ok) {
              assert.equal(r.value.path, join(d, name ?? 'notsotuf.json'));
              checkConfig(
                r.value,
                JSON.parse(Buffer.from(bytes).toString('utf8')) as Record<string, unknown>,
              );
            }
            assertNoPrototypePollution();
          }),
      ),
    },
  ];
};
