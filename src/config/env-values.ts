/**
 * Readers of one environment variable each: the value trimmed (empty counts as unset), parsed
 * into its type with its default, or a ConfigError naming the variable (env.ts uses them).
 */

/** Thrown for the first variable that is missing or malformed; the message names it. */
export class ConfigError extends Error {
  constructor(variable: string, problem: string) {
    super(`${variable} ${problem}`);
    this.name = 'ConfigError';
  }
}

export type Raw = Record<string, unknown>;

export function text(raw: Raw, name: string): string | undefined {
  const value = raw[name];
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
    return undefined;
  }
  const trimmed = String(value).trim();
  return trimmed === '' ? undefined : trimmed;
}

export function oneOf<T extends string>(
  raw: Raw,
  name: string,
  allowed: readonly T[],
  fallback: T,
): T {
  const value = text(raw, name);
  if (value === undefined) return fallback;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new ConfigError(name, `must be one of ${allowed.join(', ')} (got "${value}")`);
}

export function integer(
  raw: Raw,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const value = text(raw, name);
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new ConfigError(name, `must be a whole number from ${min} to ${max} (got "${value}")`);
  }
  return Number(value);
}

export function boolean(raw: Raw, name: string, fallback: boolean): boolean {
  const value = text(raw, name)?.toLowerCase();
  if (value === undefined) return fallback;
  if (['true', '1', 'yes'].includes(value)) return true;
  if (['false', '0', 'no'].includes(value)) return false;
  throw new ConfigError(name, `must be true or false (got "${value}")`);
}

export function url(raw: Raw, name: string, protocols: string[], fallback?: string): string {
  const value = text(raw, name) ?? fallback;
  if (value === undefined) throw new ConfigError(name, 'is required');
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new ConfigError(name, `must be a URL (${protocols.join(' or ')})`);
  }
  if (!protocols.includes(parsed.protocol.replace(/:$/, ''))) {
    throw new ConfigError(name, `must use ${protocols.join(' or ')}, not ${parsed.protocol}`);
  }
  return value;
}

export function list(raw: Raw, name: string): string[] {
  return (text(raw, name) ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

export function prefix(raw: Raw, name: string, fallback: string): string {
  const value = text(raw, name) ?? fallback;
  if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(value)) {
    throw new ConfigError(name, 'must be 1-64 characters of letters, digits, _ . : -');
  }
  return value;
}
