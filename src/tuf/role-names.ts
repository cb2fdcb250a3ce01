/**
 * The four top-level TUF roles; notsotuf uses no delegations (neither does tufup). Kept apart from metadata.ts so
 * the CLI can check names without loading tuf-js.
 */
export type RoleName = 'root' | 'targets' | 'snapshot' | 'timestamp';
export const ROLE_NAMES: readonly RoleName[] = ['root', 'targets', 'snapshot', 'timestamp'];

export function isRoleName(value: string): value is RoleName {
  return (ROLE_NAMES as readonly string[]).includes(value);
}
