import { ConsoleLogger } from '@nestjs/common';
import { LOG_LEVELS, type LogLevel } from '../config/env.js';
import { redactUrlCredentials } from '../config/redact.js';

/**
 * Every log line leaves through here: a password inside a URL (a connection error quoting
 * DATABASE_URL, a library echoing REDIS_URL) is replaced before the line is written.
 */
class RedactingLogger extends ConsoleLogger {
  protected override stringifyJsonLogObject(logObject: Record<string, unknown>): string {
    return redactUrlCredentials(super.stringifyJsonLogObject(logObject));
  }
}

/** Structured JSON logs, one object per line, at LOG_LEVEL and above. */
export function createLogger(level: LogLevel): ConsoleLogger {
  return new RedactingLogger({
    json: true,
    logLevels: LOG_LEVELS.slice(0, LOG_LEVELS.indexOf(level) + 1),
  });
}
