/**
 * HTTP headers for repository files, shared by `notsotuf serve` and `notsotuf publish` (which stores them with
 * each object, so a CDN in front of the bucket gets them right).
 */

const CONTENT_TYPES: Record<string, string> = {
  '.json': 'application/json',
  '.gz': 'application/gzip',
  '.tar': 'application/x-tar',
  '.patch': 'application/octet-stream',
};

export const IMMUTABLE = 'public, max-age=31536000, immutable';
export const REVALIDATE = 'no-cache';

/**
 * Cache policy for CDNs and browsers: files whose name changes with their content (`N.root.json`,
 * `N.targets.json`, hash-prefixed targets) never change, so they may be cached forever; the unversioned names,
 * `timestamp.json` first of all, must be revalidated on every request or clients miss new releases. Targets of a
 * repository without consistent snapshots (tufup's layout, `app-1.0.tar.gz`) keep one name per release too, and
 * publish never replaces them, so they are immutable as well.
 */
export function cacheControlFor(path: string): string {
  const name = path.split('/').pop() ?? '';
  if (/^[1-9]\d*\.[a-z]+\.json$/.test(name) || /^[0-9a-f]{64}\./.test(name)) return IMMUTABLE;
  if (path.startsWith('targets/') || path.includes('/targets/')) return IMMUTABLE;
  return REVALIDATE;
}

export function contentTypeFor(path: string): string {
  const dot = path.lastIndexOf('.');
  return (dot >= 0 ? CONTENT_TYPES[path.slice(dot)] : undefined) ?? 'application/octet-stream';
}
