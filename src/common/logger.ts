import { ConsoleLogger } from '@nestjs/common';
import { LOG_LEVELS, type LogLevel } from '../config/env.js';

/** Structured JSON logs, one object per line, at LOG_LEVEL and above. */
export function createLogger(level: LogLevel): ConsoleLogger {
  return new ConsoleLogger({
    json: true,
    logLevels: LOG_LEVELS.slice(0, LOG_LEVELS.indexOf(level) + 1),
  });
}
