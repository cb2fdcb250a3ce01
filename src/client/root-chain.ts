/**
 * Local tampering defence for the metadata cache. tuf-js takes `root.json` in its metadata directory as the trust
 * anchor without checking it, so anyone who can write the cache could plant a root of their own. The client keeps
 * every root version it accepted (`N.root.json`) and, before each refresh, checks that the cached root descends
 * from the root the app bundles, signature by signature (TUF client workflow 5.3.4–5.3.5 replayed offline).
 */
import { Metadata, MetadataKind, type Root } from '@tufjs/models';
import { NotsotufError } from '../core/errors.js';

/** Parses root metadata bytes; undefined when they are not a root document. */
export function parseRoot(bytes: Uint8Array): Metadata<Root> | undefined {
  try {
    const json = JSON.parse(Buffer.from(bytes).toString('utf8'));
    if (json?.signed?._type !== 'root') return undefined;
    return Metadata.fromJSON(MetadataKind.Root, json);
  } catch {
    return undefined;
  }
}

/** The bundled trusted root, checked: a root document, signed by its own threshold of keys. */
export function parseTrustedRoot(bytes: Uint8Array): Metadata<Root> {
  const root = parseRoot(bytes);
  if (!root) {
    throw new NotsotufError(
      'INVALID_ARGUMENT',
      'The trusted root given to the client is not a TUF root.json.',
      {
        hint: 'Bundle the repository’s metadata/root.json (or 1.root.json) with the app and pass its contents.',
      },
    );
  }
  try {
    root.verifyDelegate('root', root);
  } catch (err) {
    throw new NotsotufError(
      'METADATA_SIGNATURE_INVALID',
      'The trusted root is not signed by its own root keys.',
      {
        cause: err,
        hint: 'Bundle an unmodified root.json from the repository.',
      },
    );
  }
  return root;
}

/**
 * True when `chain` (root versions after `trusted`, ascending, consecutive) leads from `trusted` to `cached`, each
 * version signed by the threshold of both the previous and its own root keys.
 */
export function rootChainValid(
  trusted: Metadata<Root>,
  chain: readonly Metadata<Root>[],
  cached: Metadata<Root>,
): boolean {
  if (cached.signed.version === trusted.signed.version) {
    return JSON.stringify(cached.toJSON()) === JSON.stringify(trusted.toJSON());
  }
  let current = trusted;
  for (const next of chain) {
    if (next.signed.version !== current.signed.version + 1) return false;
    try {
      current.verifyDelegate('root', next);
      next.verifyDelegate('root', next);
    } catch {
      return false;
    }
    current = next;
  }
  return (
    current.signed.version === cached.signed.version &&
    JSON.stringify(current.toJSON()) === JSON.stringify(cached.toJSON())
  );
}
