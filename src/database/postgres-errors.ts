import { DatabaseError } from 'pg';
import { QueryFailedError } from 'typeorm';

/** The SQLSTATE of a failed query: from TypeORM's wrapper, or pg's own error (a COPY). */
function sqlState(error: unknown): string | undefined {
  if (error instanceof QueryFailedError)
    return (error.driverError as { code?: string } | undefined)?.code;
  return error instanceof DatabaseError ? error.code : undefined;
}

/**
 * SQLSTATE class 22 (data exception) or 23 (integrity constraint violation): the data itself
 * was refused, so the same statement with the same data fails again; not an outage or a timeout.
 */
export function isDataRefused(error: unknown): boolean {
  const state = sqlState(error);
  return state !== undefined && (state.startsWith('22') || state.startsWith('23'));
}

/** SQLSTATE 23505: the write collided with a unique constraint. */
export function isUniqueViolation(error: unknown): boolean {
  return sqlState(error) === '23505';
}

/** Runs `work`; a unique violation becomes the module's own 409 (`conflict()`). */
export async function withUniqueConflict<T>(
  work: () => Promise<T>,
  conflict: () => Error,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isUniqueViolation(error)) throw conflict();
    throw error;
  }
}

/**
 * SQLSTATE 57014 (query_canceled): Postgres cancelled the statement, because it ran past
 * DATABASE_STATEMENT_TIMEOUT_MS (waiting for a lock counts) or an operator cancelled it.
 * Its transaction is rolled back, so the request may be retried as it was.
 */
export function isStatementCanceled(error: unknown): error is QueryFailedError {
  return (
    error instanceof QueryFailedError &&
    (error.driverError as { code?: string } | undefined)?.code === '57014'
  );
}

/** Network errors of a connection that could not be made or was cut. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

/**
 * SQLSTATEs that say the server cannot serve us now: class 08 (connection exception),
 * 57P01-57P03 (terminated by an administrator, crash, starting up or shutting down),
 * 53300 (too many connections).
 */
const UNAVAILABLE_STATES = /^(08...|57P0[123]|53300)$/;

/** pg's and pg-pool's own connection errors, which carry no code. */
const CONNECTION_MESSAGES =
  /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error)/;

/**
 * Whether `error` means Postgres cannot be reached or refused the connection (refused,
 * terminated, pool or connect timeout, database not accepting connections), as opposed to
 * a query that failed: a 503 the client may retry, not a 500.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const cause = error instanceof QueryFailedError ? (error.driverError as unknown) : error;
  if (!(cause instanceof Error)) return false;
  const code = (cause as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (NETWORK_CODES.has(code) || UNAVAILABLE_STATES.test(code)) return true;
    // ALTER DATABASE ... ALLOW_CONNECTIONS false (object_not_in_prerequisite_state).
    if (code === '55000' && cause.message.includes('not currently accepting connections')) {
      return true;
    }
  }
  if (cause instanceof AggregateError) return cause.errors.some(isDatabaseUnavailable);
  return CONNECTION_MESSAGES.test(cause.message);
}
