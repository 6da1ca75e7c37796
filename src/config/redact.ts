/**
 * Connection URLs carry passwords (`postgres://user:secret@host/db`, `redis://:secret@host`):
 * anything that may print one (the launcher, configuration and connection errors, every log
 * line) prints it through these, with the password replaced by `***`.
 */
export const REDACTED_PASSWORD = '***';

/** `scheme://user:password@` inside any text; the password part stops at the last `@` of the authority. */
const CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/?#@]*):[^\s/?#]*@/gi;

/** The URL with its password replaced; the user name, host and path are kept. */
export function redactUrl(url: string): string {
  return redactUrlCredentials(url);
}

/** Every URL password inside `text` replaced (log lines, error messages). */
export function redactUrlCredentials(text: string): string {
  return text.replace(CREDENTIALS, `$1:${REDACTED_PASSWORD}@`);
}
