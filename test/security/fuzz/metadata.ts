/**
 * Fuzzing of TUF metadata parsing (src/tuf/metadata.ts) with hostile JSON, edited and mutated fixtures, and the
 * round trip through serializeMetadata that re-signing relies on.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { parseExpiry } from '../../../src/tuf/expiry.js';
import {
  parseMetadata,
  parseMetadataBytes,
  ROLE_NAMES,
  type RoleName,
  serializeMetadata,
} from '../../../src/tuf/metadata.js';
import {
  assertNoPrototypePollution,
  bytesEqual,
  describeError,
  type ErrorExpectation,
  type FuzzArea,
  outcomeOfSync,
} from './common.js';
import { hostileJsonCase, type JsonCase, jsonEditArb, jsonOf } from './hostile-json.js';
import { type Layout, mutate, mutationArb } from './mutations.js';

const METADATA_DIR = fileURLToPath(
  new URL('../../fixtures/tufup-repo-v0.10/repository/metadata/', import.meta.url),
);
const META_FIELDS = [
  'signed',
  'signatures',
  '_type',
  'spec_version',
  'version',
  'expires',
  'keys',
  'roles',
  'keyids',
  'threshold',
  'sig',
  'keyid',
  'targets',
  'meta',
  'length',
  'hashes',
  'custom',
  'consistent_snapshot',
];
/** Metadata rejections are METADATA_INVALID; @tufjs/models reports its validation failures as TypeErrors. */
const METADATA_CODES: ErrorExpectation = { codes: ['METADATA_INVALID'], foreignCause: true };

type Metadata = ReturnType<typeof parseMetadata>;

/**
 * The JSON text of `value` with sorted keys, standing for the JSON value: -0 is 0, as for every JSON writer
 * (canonical JSON, hence signatures, included) and for Python's json (which reads -0 as the integer 0); a number
 * beyond double range stays distinct from the null that JSON.stringify would make of it.
 */
function jsonValueText(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'number' && !Number.isFinite(v)) return { 'non-finite number': String(v) };
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      return Object.fromEntries(
        Object.keys(o)
          .sort()
          .map((k) => [k, o[k]]),
      );
    }
    return v;
  });
}

/** The same signed part as JSON data (`equals` compares unknown fields strictly, so tells -0 from 0). */
function sameSigned(a: Metadata['signed'], b: Metadata['signed']): boolean {
  return a.equals(b as never) || jsonValueText(a.toJSON()) === jsonValueText(b.toJSON());
}

export const metadataProperties: FuzzArea = ({ scale }) => {
  const fixtures = ROLE_NAMES.map(
    (role) => [role, readFileSync(join(METADATA_DIR, `${role}.json`))] as const,
  );
  const fixtureIndex = fc.nat(fixtures.length - 1);
  const anyRole = fc.constantFrom<RoleName>(...ROLE_NAMES);
  /** Mostly the fixture's own role (so edits are judged past the type check), sometimes another. */
  const roleFor = (i: number | undefined) =>
    fc.oneof(
      { weight: i === undefined ? 0 : 4, arbitrary: fc.constant(fixtures[i ?? 0]![0]) },
      { weight: 1, arbitrary: anyRole },
    );
  const metaLayout: Layout = { headerSize: 64, fields: [] };
  const check = (r: RoleName, md: Metadata): void => {
    assert.equal(md.signed.type, r, 'metadata of the role asked for');
    assert.ok(
      Number.isSafeInteger(md.signed.version) && md.signed.version >= 1,
      'the version is an integer ≥ 1',
    );
    assert.equal(parseExpiry(md.signed.expires, r).toISOString().replace('.000Z', 'Z'), md.signed.expires);
  };
  const parsedFixtures = fixtures.map(([, bytes]) => JSON.parse(bytes.toString('utf8')) as unknown);
  const metadataJson: fc.Arbitrary<[RoleName, JsonCase]> = fc.oneof(
    fc.tuple(anyRole, hostileJsonCase(META_FIELDS, scale)),
    fc
      .tuple(fixtureIndex, fc.array(jsonEditArb(META_FIELDS, scale), { minLength: 1, maxLength: 2 }))
      .chain(([i, es]) =>
        fc.tuple(roleFor(i), fc.constant<JsonCase>({ base: parsedFixtures[i], edits: es })),
      ),
  );
  const metadataBytes: fc.Arbitrary<[RoleName, Uint8Array]> = fc.oneof(
    fc.tuple(anyRole, fc.uint8Array({ maxLength: 400 })),
    fc
      .tuple(fixtureIndex, mutationArb(metaLayout, 3))
      .chain(([i, ms]) => fc.tuple(roleFor(i), fc.constant(mutate(fixtures[i]![1], ms, metaLayout)))),
    fixtureIndex.chain((i) => fc.tuple(roleFor(i), fc.constant(Uint8Array.from(fixtures[i]![1])))),
  );
  return [
    {
      name: 'metadata: parseMetadata on arbitrary and edited JSON',
      testRuns: 150,
      weight: 1,
      property: fc.property(metadataJson, ([r, input]) => {
        const json = jsonOf(input);
        const out = outcomeOfSync(() => parseMetadata(r, json, 'fuzz.json'), METADATA_CODES);
        assertNoPrototypePollution();
        if (out.ok) check(r, out.value);
      }),
    },
    {
      name: 'metadata: parseMetadataBytes on random and mutated metadata files',
      testRuns: 150,
      weight: 1,
      property: fc.property(metadataBytes, ([r, bytes]) => {
        const out = outcomeOfSync(() => parseMetadataBytes(r, bytes, 'fuzz.json'), METADATA_CODES);
        if (out.ok) check(r, out.value);
        const intact = fixtures.find(([fr, b]) => fr === r && bytesEqual(b, bytes));
        if (intact) assert.ok(out.ok, 'the intact fixture parses');
      }),
    },
    {
      name: 'metadata: accepted metadata is written back by serializeMetadata to the same metadata',
      testRuns: 150,
      weight: 1,
      property: fc.property(metadataJson, ([r, input]) => {
        const json = jsonOf(input);
        let md: Metadata;
        try {
          md = parseMetadata(r, json, 'fuzz.json');
        } catch {
          return; // refusals are checked by the properties above
        }
        let text: Buffer;
        try {
          text = serializeMetadata(md);
        } catch (err) {
          assert.fail(`serializeMetadata throws ${describeError(err)}`);
        }
        const again = outcomeOfSync(() => parseMetadataBytes(r, text, 'again'), METADATA_CODES);
        assert.ok(again.ok, `the serialized metadata is refused: ${again.ok ? '' : again.error.message}`);
        assert.ok(sameSigned(again.value.signed, md.signed), 'and parses back to the same signed part');
        assert.deepEqual(again.value.signatures, md.signatures);
      }),
    },
  ];
};
