/**
 * Property-based fuzzing of every parser that sees untrusted bytes: target names and versions, custom metadata,
 * the bsdiff4 and notsotuf patch readers (and the bzip2 and LZMA decoders under them), the tar reader and
 * extractor, gunzip, key files, the config loader and TUF metadata. One file per area; common.ts holds what they
 * share.
 *
 * The contract under test, for each parser: it returns a result that satisfies the result's own invariants, or it
 * throws a NotsotufError with a stable code from the set that parser documents. It never throws anything else,
 * never hides a programming error (TypeError, RangeError, ...) as the `cause` of a generic NotsotufError, never
 * leaves a partial output behind, never writes outside its target directory, and keeps the process's memory
 * bounded. Hangs are caught by the caller: the test runner's timeout in fuzz-parsers.test.ts, fast-check's
 * timeout plugin in scripts/fuzz.mjs.
 *
 * The same list is run briefly by `test/security/fuzz-parsers.test.ts` and at length by `npm run fuzz`.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bsdiff4Properties } from './bsdiff4.js';
import { bzip2Properties } from './bzip2.js';
import { type FuzzArea, type FuzzProperty, Workspace } from './common.js';
import { configProperties } from './config.js';
import { customMetadataProperties } from './custom-metadata.js';
import { extractProperties } from './extract.js';
import { gzipProperties } from './gzip.js';
import { keyProperties } from './keys.js';
import { lzmaProperties } from './lzma.js';
import { metadataProperties } from './metadata.js';
import { notsotufPatchProperties } from './notsotuf-patches.js';
import { patchProperties } from './patches.js';
import { tarProperties } from './tar.js';
import { targetNameProperties } from './target-names.js';
import { versionProperties } from './versions.js';

export { beginOutcomeStats, type FuzzProperty, outcomeSummary } from './common.js';

export interface FuzzSuiteOptions {
  /** Multiplies the sizes of generated inputs (default 1: small and fast). */
  readonly scale?: number;
}

export interface FuzzSuite {
  readonly properties: readonly FuzzProperty[];
  /** Scratch directory of the suite; removed by `cleanup`. */
  readonly dir: string;
  cleanup(): Promise<void>;
}

/** The areas, in the order their properties run. */
const AREAS: readonly FuzzArea[] = [
  versionProperties,
  targetNameProperties,
  customMetadataProperties,
  patchProperties,
  bsdiff4Properties,
  notsotufPatchProperties,
  lzmaProperties,
  bzip2Properties,
  tarProperties,
  extractProperties,
  gzipProperties,
  keyProperties,
  configProperties,
  metadataProperties,
];

/** Builds every property; they share one scratch directory, each run in its own subdirectory. */
export function createFuzzSuite(options: FuzzSuiteOptions = {}): FuzzSuite {
  const scale = Math.max(1, options.scale ?? 1);
  const dir = mkdtempSync(join(tmpdir(), 'notsotuf-fuzz-'));
  const ctx = { ws: new Workspace(dir), scale };
  const properties = AREAS.flatMap((area) => area(ctx));
  const names = new Set(properties.map((p) => p.name));
  assert.equal(names.size, properties.length, 'property names are unique');
  return { properties, dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
