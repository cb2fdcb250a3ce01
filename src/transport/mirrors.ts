import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { NotsotufError } from '../core/errors.js';

/** Where one copy of a repository is served: its metadata and its targets. */
export interface MirrorSource {
  /** `http(s)://…`, `file://…` or a plain absolute directory path. */
  readonly metadataUrl: string;
  /** `http(s)://…`, `file://…` or a plain absolute directory path. */
  readonly targetsUrl: string;
}

/** A scheme of at least two letters, so that a Windows drive (`C:\…`) is not taken for one. */
const URL_SCHEME = /^[a-z][a-z0-9+.-]+:/i;
const SUPPORTED = new Set(['http:', 'https:', 'file:']);

/**
 * A location as a normalised URL ending in `/`: tuf-js joins names onto it and builds its URLs with
 * `new URL(…)`, so the base must be written exactly as `URL` writes it for {@link mirrorUrlsFor} to find it again.
 *
 * @throws NotsotufError `INVALID_ARGUMENT` for a relative path, an unparseable URL or a scheme other than
 * http, https and file.
 */
export function toBaseUrl(location: string): string {
  let url: URL;
  if (URL_SCHEME.test(location)) {
    try {
      url = new URL(location);
    } catch (err) {
      throw invalid(location, err);
    }
    if (!SUPPORTED.has(url.protocol)) throw invalid(location);
  } else if (isAbsolute(location)) {
    url = pathToFileURL(location);
  } else {
    throw invalid(location);
  }
  // Query and fragment would end up in the middle of every joined URL.
  url.search = '';
  url.hash = '';
  return url.href.endsWith('/') ? url.href : `${url.href}/`;
}

function invalid(location: string, cause?: unknown): NotsotufError {
  return new NotsotufError('INVALID_ARGUMENT', `Not a usable repository location: ${location}`, {
    cause,
    details: { location },
    hint: 'Give an http(s):// or file:// URL, or an absolute directory path.',
  });
}

/**
 * The same mirror with both locations as normalised URLs ending in `/`.
 *
 * @throws NotsotufError `INVALID_ARGUMENT` (see {@link toBaseUrl}).
 */
export function normalizeMirror(m: MirrorSource): MirrorSource {
  return { metadataUrl: toBaseUrl(m.metadataUrl), targetsUrl: toBaseUrl(m.targetsUrl) };
}

/**
 * The URLs to try, in order, for a URL that tuf-js built from the first mirror: its path below the first mirror's
 * metadata or targets base, appended to each mirror's matching base. The longer base wins when one contains the
 * other (metadata at `/repo/`, targets at `/repo/targets/`). A URL below neither base is tried as it is.
 * Mirrors must be normalised.
 */
export function mirrorUrlsFor(url: string, mirrors: readonly MirrorSource[]): string[] {
  const first = mirrors[0];
  if (!first) return [url];
  const bases = [
    { key: 'metadataUrl' as const, base: first.metadataUrl },
    { key: 'targetsUrl' as const, base: first.targetsUrl },
  ]
    .filter(({ base }) => url.startsWith(base))
    .sort((a, b) => b.base.length - a.base.length);
  const match = bases[0];
  if (!match) return [url];
  const rest = url.slice(match.base.length);
  return mirrors.map((m) => m[match.key] + rest);
}
