import { resolve } from 'node:path';
import { NotsotufError } from '../core/errors.js';

/**
 * Where a repository is published (or pulled from), parsed from the `--to` / `--from` text. Pure, no I/O.
 * - `dir:<path>`: a local or mounted directory;
 * - `s3://<bucket>[/<prefix>]`: any S3-compatible service (endpoint, region and credentials from the usual AWS
 *   environment variables or profile, or flags);
 * - `rclone:<remote>:[<path>]`: any rclone remote, through the user's `rclone` binary and its configuration.
 */
export type Destination =
  | { readonly kind: 'dir'; readonly path: string }
  | { readonly kind: 's3'; readonly bucket: string; readonly prefix: string }
  | { readonly kind: 'rclone'; readonly remote: string; readonly path: string };

function invalid(text: string, why: string): NotsotufError {
  return new NotsotufError('DESTINATION_INVALID', `Invalid destination ${JSON.stringify(text)}: ${why}.`, {
    hint: 'Use dir:<path>, s3://<bucket>/<prefix> or rclone:<remote>:<path>.',
  });
}

/** Object keys are joined with `/`: a prefix is stored without leading or trailing slashes. */
function cleanPrefix(text: string, prefix: string): string {
  const parts = prefix.split('/').filter((p) => p !== '');
  if (parts.some((p) => p === '.' || p === '..')) throw invalid(text, 'the path has a "." or ".." part');
  return parts.join('/');
}

/** Parses a destination; relative `dir:` paths are resolved against `cwd`. */
export function parseDestination(text: string, cwd = process.cwd()): Destination {
  if (text.includes('\0') || /[\r\n]/.test(text)) throw invalid(text, 'it contains a control character');
  if (text.startsWith('dir:')) {
    const path = text.slice(4);
    if (path === '') throw invalid(text, 'the directory is missing');
    return { kind: 'dir', path: resolve(cwd, path) };
  }
  if (text.startsWith('s3://')) {
    const [bucket = '', ...rest] = text.slice(5).split('/');
    // S3 bucket naming rules (3–63 lowercase letters, digits, dots and hyphens), which every S3 service accepts.
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) throw invalid(text, 'not a valid bucket name');
    return { kind: 's3', bucket, prefix: cleanPrefix(text, rest.join('/')) };
  }
  if (text.startsWith('rclone:')) {
    const rest = text.slice(7);
    const colon = rest.indexOf(':');
    const remote = colon < 0 ? '' : rest.slice(0, colon);
    // rclone remote names: letters, digits, `_`, `-`, `.`, `+`, `@` and spaces, not starting with `-`.
    if (remote === '' || !/^[\w.+@ -]+$/.test(remote) || remote.startsWith('-')) {
      throw invalid(text, 'the rclone remote name is missing or invalid (rclone:<remote>:<path>)');
    }
    return { kind: 'rclone', remote, path: cleanPrefix(text, rest.slice(colon + 1)) };
  }
  throw invalid(text, 'unknown kind');
}

/** The destination as text, for messages and --json output. */
export function describeDestination(d: Destination): string {
  if (d.kind === 'dir') return `dir:${d.path}`;
  if (d.kind === 's3') return `s3://${d.bucket}${d.prefix ? `/${d.prefix}` : ''}`;
  return `rclone:${d.remote}:${d.path}`;
}
