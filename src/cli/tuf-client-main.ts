#!/usr/bin/env node
/**
 * `notsotuf-tuf-client`: the client-under-test protocol of the TUF conformance suite, implemented over the same
 * fetcher and metadata handling as the notsotuf Client (so the suite checks what apps run):
 *   --metadata-dir D init TRUSTED_ROOT
 *   --metadata-dir D --metadata-url U refresh
 *   --metadata-dir D --metadata-url U --target-name P [--target-name P2 …] --target-base-url T --target-dir TD download
 * Exit 0 on success, 1 on failure. Trusted metadata stays in D under unversioned names.
 */
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { refreshTrustedMetadata } from '../client/trusted-metadata.js';
import { isNotsotufError } from '../core/errors.js';
import { ResilientFetcher } from '../transport/index.js';

const USAGE = `usage:
  notsotuf-tuf-client --metadata-dir D init TRUSTED_ROOT
  notsotuf-tuf-client --metadata-dir D --metadata-url U refresh
  notsotuf-tuf-client --metadata-dir D --metadata-url U --target-name P [--target-name P2 ...]
                      --target-base-url T --target-dir TD download`;

function fail(message: string): never {
  throw Object.assign(new Error(message), { usage: true });
}

const OPTIONS = {
  'metadata-dir': { type: 'string' },
  'metadata-url': { type: 'string' },
  'target-name': { type: 'string', multiple: true },
  'target-base-url': { type: 'string' },
  'target-dir': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

async function run(argv: string[]): Promise<void> {
  const parsed = (() => {
    try {
      return parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
    } catch (err) {
      return fail((err as Error).message);
    }
  })();
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const [command, ...rest] = positionals;
  const metadataDir = values['metadata-dir'] ?? fail('--metadata-dir is required');
  if (command === 'init') {
    const trusted = rest[0] ?? fail('init needs the trusted root file');
    await mkdir(metadataDir, { recursive: true });
    await copyFile(trusted, join(metadataDir, 'root.json'));
    return;
  }
  if (command !== 'refresh' && command !== 'download') fail(`unknown command ${command ?? '(none)'}`);
  const metadataUrl = values['metadata-url'] ?? fail('--metadata-url is required');
  const targetBaseUrl = values['target-base-url'] ?? metadataUrl;
  // In this protocol the trusted root is whatever the previous runs left in D (set by init).
  const trustedRoot = await readFile(join(metadataDir, 'root.json'));
  const fetcher = new ResilientFetcher([{ metadataUrl, targetsUrl: targetBaseUrl }], { retries: 0 });
  const meta = await refreshTrustedMetadata({
    metadataDir,
    workDir: join(metadataDir, '.work'),
    trustedRoot,
    fetcher,
  });
  try {
    if (command === 'refresh') return;
    const targetDir = values['target-dir'] ?? fail('--target-dir is required');
    if (!values['target-base-url']) fail('--target-base-url is required');
    await mkdir(targetDir, { recursive: true });
    for (const name of values['target-name'] ?? fail('--target-name is required')) {
      const path = join(targetDir, encodeURIComponent(name));
      if (await meta.findCachedTarget(name, path)) continue;
      await meta.downloadTarget(name, path);
    }
  } finally {
    await meta.close();
  }
}

run(process.argv.slice(2)).then(
  () => {
    process.exitCode = 0;
  },
  (err: unknown) => {
    if ((err as { usage?: boolean }).usage) process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    else if (isNotsotufError(err)) process.stderr.write(`error ${err.code}: ${err.message}\n`);
    else process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
