/**
 * The tuf-js Updater as notsotuf uses it, and the one place that reaches beyond its public methods. tuf-js 5 (the
 * version that installs on every Node notsotuf supports) has two flaws in delegated-role handling, corrected here
 * on the instance, before any refresh:
 * - a delegated role already trusted in this process is returned as is when another delegator reaches it, without
 *   checking that this delegator's keys sign it (diamond delegations; tuf-js 6 fixes it, but declares Node
 *   ^22.22 || ^24.15 only). Here it is verified against the current delegator first, as python-tuf does.
 * - cached delegated metadata is read from `<dir>/<role>.json` with the role name as is, while tuf-js writes it
 *   URL-encoded: a role named `../x` was read from outside the metadata directory, and a role named `?` never
 *   found its cached copy. Here both use the encoded name (python-tuf's too: `quote(role, '')`).
 * The shape of these internals is checked when an Updater is made, so a tuf-js upgrade that changes them fails
 * loudly instead of silently losing a correction.
 */
import type { Metadata, Root, Targets } from '@tufjs/models';
import { Updater, type UpdaterOptions } from 'tuf-js';

type TrustedRole = Metadata<Root> | Metadata<Targets>;

/** The private parts of tuf-js 5's Updater that the corrections use. */
interface UpdaterInternals {
  trustedSet: {
    getRole(name: string): TrustedRole | undefined;
    root?: Metadata<Root>;
    targets?: Metadata<Targets>;
  };
  loadTargets(role: string, parentRole: string): Promise<Metadata<Targets> | undefined>;
  loadLocalMetadata(fileName: string): Buffer;
}

function unsupported(what: string): never {
  throw new Error(`tuf-js does not have the expected ${what} (unsupported tuf-js version)`);
}

function internalsOf(updater: Updater): UpdaterInternals {
  const inner = updater as unknown as Partial<UpdaterInternals>;
  if (typeof inner.loadTargets !== 'function') unsupported('Updater.loadTargets');
  if (typeof inner.loadLocalMetadata !== 'function') unsupported('Updater.loadLocalMetadata');
  if (typeof inner.trustedSet?.getRole !== 'function') unsupported('trusted metadata set');
  return inner as UpdaterInternals;
}

/** A tuf-js Updater with the delegation corrections above. */
export function createUpdater(options: UpdaterOptions): Updater {
  const updater = new Updater(options);
  const inner = internalsOf(updater);
  const loadTargets = inner.loadTargets.bind(updater);
  const loadLocalMetadata = inner.loadLocalMetadata.bind(updater);
  inner.loadLocalMetadata = (name) => loadLocalMetadata(encodeURIComponent(name));
  inner.loadTargets = async (role, parentRole) => {
    const cached = inner.trustedSet.getRole(role);
    if (cached) {
      const delegator = inner.trustedSet.getRole(parentRole) ?? unsupported(`trusted ${parentRole} metadata`);
      // Throws tuf-js's UnsignedMetadataError when this delegator's keys do not meet its threshold.
      delegator.verifyDelegate(role, cached);
      return cached as Metadata<Targets>;
    }
    return loadTargets(role, parentRole);
  };
  return updater;
}

/**
 * The verified top-level targets metadata after `refresh()`. tuf-js has no public accessor for the whole target
 * list (python-tuf's clients read the same private field); the shape is checked so that a tuf-js upgrade fails
 * loudly instead of listing nothing.
 */
export function verifiedTargets(updater: Updater): Targets {
  const signed = internalsOf(updater).trustedSet.targets?.signed;
  if (typeof signed?.targets !== 'object' || signed.targets === null)
    unsupported('verified targets metadata');
  return signed;
}

/** The trusted root after `refresh()` (same private field as {@link verifiedTargets}). */
export function verifiedRoot(updater: Updater): Root {
  return internalsOf(updater).trustedSet.root?.signed ?? unsupported('trusted root metadata');
}
