import { randomBytes } from 'node:crypto';

/** A URL-safe slug from a name, with a random suffix so generated slugs do not collide. */
export function slugWithSuffix(name: string): string {
  const base = name
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48)
    .replace(/-+$/g, '');
  const suffix = randomBytes(4).readUInt32BE().toString(36).padStart(6, '0').slice(0, 6);
  return base === '' ? suffix : `${base}-${suffix}`;
}
