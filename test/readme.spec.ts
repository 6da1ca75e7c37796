import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
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

// semver comes with npm's own tooling in node_modules (no types of its own here).
const semver = createRequire(import.meta.url)('semver') as {
  subset(range: string, superset: string): boolean;
  minVersion(range: string): { version: string } | null;
};

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

describe('engines', () => {
  const engines = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node;

  it('asks no more of Node than every dependency does', () => {
    const lock = JSON.parse(read('package-lock.json')) as {
      packages: Record<string, { engines?: { node?: string } | string[] }>;
    };
    const narrower = Object.entries(lock.packages).flatMap(([path, entry]) => {
      const node = Array.isArray(entry.engines) ? undefined : entry.engines?.node;
      return path === '' || node === undefined || semver.subset(engines, node)
        ? []
        : [`${path.replace(/^.*node_modules\//, '')} needs node ${node}`];
    });
    expect(narrower).toEqual([]);
  });

  it('the README says which Node versions', () => {
    const versions = engines.split('||').map((range) => semver.minVersion(range)?.version);
    const line = /^Needs Node\.js .*$/m.exec(section('Run it'))?.[0] ?? '';
    for (const version of versions) {
      expect(line).toContain(`${version?.replace(/\.0$/, '')}+`);
    }
  });
});
