import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { AppError } from '../../common/app-error.js';
import { ApiKeyAuthenticator, sentApiKey } from '../keys/api-key-authenticator.js';
import { CredentialFailures } from '../keys/credential-failures.js';
import { JwtStrategy } from './jwt.strategy.js';

/**
 * The auth guard's 429 for a blocked address's failed credentials, answered before routing
 * (a Fastify onRequest hook, see configureHttpApp), so that while this process knows a client
 * address to be over AUTH_FAILURES_PER_IP its forgeries cost neither Nest's pipeline nor
 * Postgres. The same error as the guard's (CredentialFailures.blockedError), rendered by the
 * same exception filter. A valid credential is never refused: a key cached here costs no I/O,
 * an uncached one is let through when Redis marks its hash as a key's, and a bearer token is
 * refused only when the JWT strategy would call it invalid (an expired one goes on to its
 * 401). As in the guard, X-API-Key is the credential when both are sent. Unlike the guard,
 * this cannot tell a route's metadata: a blocked address's failed credential is refused on
 * every route, public and unmatched ones too.
 */
@Injectable()
export class BlockedCredentials {
  constructor(
    private readonly failures: CredentialFailures,
    private readonly apiKeys: ApiKeyAuthenticator,
    private readonly tokens: JwtStrategy,
  ) {}

  /** The 429 to answer at once, or null to let the request go on (no I/O unless blocked). */
  async refusalOf(request: FastifyRequest): Promise<AppError | null> {
    const apiKey = sentApiKey(request);
    if (apiKey === undefined && request.headers.authorization === undefined) return null;
    const now = Date.now();
    if (!this.failures.isBlocked(request.ip, now)) return null;
    const isFailed =
      apiKey === undefined
        ? this.tokens.isInvalid(request)
        : await this.apiKeys.isForged(apiKey, now);
    return isFailed ? this.failures.blockedError(request.ip, now) : null;
  }
}
