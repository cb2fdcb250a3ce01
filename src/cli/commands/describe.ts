import type { PublishResult } from '../../repo/publish.js';

/** Human summary of a publish: new versions, or what a staged change still needs. */
export function describePublish(result: PublishResult): string {
  if (result.staged) {
    const missing = result.signing
      .filter((r) => r.valid < r.threshold)
      .map((r) => `${r.role} needs ${r.threshold - r.valid} more signature(s) from: ${r.missing.join(', ')}`);
    return [
      `staged "${result.description}" in ${result.written[0]}`,
      ...missing,
      'the key holders finish it with: notsotuf sign',
    ].join('\n');
  }
  const versions = Object.entries(result.versions)
    .map(([role, v]) => `${role} v${v}`)
    .join(', ');
  const lines = [`signed and written: ${versions}`];
  for (const path of result.removeFailures) lines.push(`warning: could not remove ${path}`);
  return lines.join('\n');
}
