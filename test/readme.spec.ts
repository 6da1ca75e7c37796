import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { PERMISSIONS, ROLES, ROLE_PERMISSIONS } from '../src/common/permissions.js';
import { AUDIT_ACTIONS } from '../src/modules/audit/audit-actions.js';

/** The README and package files, read from the repository (this file runs from .build/test). */
const read = (file: string) => readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');
const readme = read('README.md');

/** The text of README's `## <title>` section. */
function section(title: string): string {
  const start = readme.indexOf(`\n## ${title}\n`);
  expect(start).toBeGreaterThan(-1);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end === -1 ? undefined : end);
}

describe('README agrees with the code', () => {
  it('lists every permission with the roles that hold it (src/common/permissions.ts)', () => {
    const rows = [...section('Permissions and roles').matchAll(/^\| `([a-z_:]+)` +\|(.+)\|$/gm)];
    expect(rows.map((row) => row[1])).toEqual([...PERMISSIONS]);
    for (const [, permission, cells] of rows) {
      const held = (cells ?? '').split('|').map((cell) => cell.trim() === 'yes');
      expect({ permission, held }).toEqual({
        permission,
        held: ROLES.map((role) => ROLE_PERMISSIONS[role].has(permission as never)),
      });
    }
  });

  it('lists every audit action, and only those (src/modules/audit/audit-actions.ts)', () => {
    const listed = section('Audit trail')
      .split('\n')
      .filter((line) => /^(- | {2})`/.test(line))
      .flatMap((line) => [...line.matchAll(/`([a-z_]+\.[a-z_]+)`/g)].map((match) => match[1]));
    expect(listed).toEqual([...AUDIT_ACTIONS]);
  });
});
