import { ValidateBy, type ValidationOptions } from 'class-validator';

/** RFC 3339 date-time (`2026-01-01T00:00:00.000Z`, any offset), or a plain date (`2026-01-01`, UTC). */
const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?(?:Z|[+-](\d{2}):(\d{2})))?$/i;

/**
 * The instant a timestamp names, or null when it is not a real RFC 3339 one. Stricter than
 * `Date.parse`, which takes February 30th (as March 2nd) and hour 24, and stricter than
 * ISO 8601, whose week and ordinal dates (`2026-W01`, `2026-032`) Date cannot read.
 */
export function parseTimestamp(value: string): Date | null {
  const match = RFC3339.exec(value);
  if (match === null) return null;
  const [, year, month, day, hour = '0', minute = '0', second = '0', offsetHours = '0'] = match;
  const [y, mo, d] = [Number(year), Number(month), Number(day)];
  const daysInMonth = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > daysInMonth) return null;
  if (Number(hour) > 23 || Number(minute) > 59 || Number(second) > 59) return null;
  if (Number(offsetHours) > 23 || Number(match[8] ?? '0') > 59) return null;
  const date = new Date(value.length === 10 ? `${value}T00:00:00Z` : value);
  // An offset can move the instant out of years 1-9999, which RFC 3339 cannot write back.
  const utcYear = date.getUTCFullYear();
  return Number.isNaN(date.getTime()) || utcYear < 1 || utcYear > 9999 ? null : date;
}

/** `@IsTimestamp()`: an RFC 3339 timestamp (or a plain date) that names a real instant. */
export function IsTimestamp(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isTimestamp',
      validator: {
        validate: (value: unknown) => typeof value === 'string' && parseTimestamp(value) !== null,
        defaultMessage: (args) =>
          `${args?.property ?? 'value'} must be an RFC 3339 timestamp such as 2026-01-01T00:00:00.000Z`,
      },
    },
    options,
  );
}
