import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { ApiKeyPrincipal } from '../../common/principal.js';
import { RequestLimiter } from '../rate-limit/request-limiter.js';
import type { ApiKey } from './api-key.entity.js';
import { CredentialFailures } from './credential-failures.js';
import { type CachedKey, KeyCache } from './key-cache.js';
import { IpAllowlist } from './ip-allowlist.js';
import { KnownKeyHashes } from './known-key-hashes.js';
import { parseSecret, secretHashKey } from './key-secret.js';
import { KeyErrors } from './keys.errors.js';
import { KeysRepository } from './keys.repository.js';

/** The SHA-256 of a secret, from its base64 form (the key cache's key). */
function hashOf(hashKey: string): Buffer {
  return Buffer.from(hashKey, 'base64');
}

/** The principal a cached key acts as (immutable, so built once per cache entry). */
const principals = new WeakMap<CachedKey, ApiKeyPrincipal>();

export function principalOf(key: CachedKey): ApiKeyPrincipal {
  let principal = principals.get(key);
  if (principal === undefined) {
    principal = buildPrincipal(key);
    principals.set(key, principal);
  }
  return principal;
}

function buildPrincipal(key: CachedKey): ApiKeyPrincipal {
  return {
    type: 'api_key',
    keyId: key.id,
    name: key.name,
    organizationId: key.organizationId,
    projectId: key.projectId,
    environment: key.environment,
    permissions: key.permissions,
    rateLimits: key.rateLimits,
  };
}

/** What the cache holds of a key row. */
function compiled(key: ApiKey): Omit<CachedKey, 'staleAtMs'> {
  return {
    id: key.id,
    name: key.name,
    organizationId: key.organizationId,
    projectId: key.projectId,
    environment: key.environment,
    permissions: new Set(key.permissions),
    allowlist: new IpAllowlist(key.allowedIps),
    expiresAtMs: key.expiresAt?.getTime() ?? null,
    isRevoked: key.revokedAt !== null,
    rateLimits: key.rateLimits,
  };
}

/** The X-API-Key a request carries (the first, if sent twice), or undefined. */
export function sentApiKey(request: FastifyRequest): string | undefined {
  const apiKey = request.headers['x-api-key'];
  return Array.isArray(apiKey) ? (apiKey[0] ?? '') : apiKey;
}

/**
 * X-API-Key -> principal. Malformed secrets are refused by their checksum alone; known keys
 * come from the in-process cache (no Postgres after first use), unknown ones from a brief
 * negative cache; revocation is also checked by the limiter's marker in its single Redis
 * round trip. last_used_at is derived from usage records by the worker (KeyLastUsed).
 */
@Injectable()
export class ApiKeyAuthenticator {
  constructor(
    private readonly cache: KeyCache,
    private readonly keys: KeysRepository,
    private readonly failures: CredentialFailures,
    private readonly knownHashes: KnownKeyHashes,
    requestLimiter: RequestLimiter,
  ) {
    // When an organization's limits changed, its keys are read again from here.
    requestLimiter.readKeysWith((organizationId, keyId) => this.current(organizationId, keyId));
  }

  /**
   * What a key acts as now, as Postgres holds it (its permissions and windows), or undefined
   * once it is deleted; its cached copy here is dropped, so its next request reads it again.
   */
  private async current(
    organizationId: string,
    keyId: string,
  ): Promise<ApiKeyPrincipal | undefined> {
    this.cache.forget(keyId);
    const key = await this.keys.findById({ organizationId }, keyId);
    return key === null ? undefined : buildPrincipal({ ...compiled(key), staleAtMs: 0 });
  }

  /**
   * The key a secret belongs to (cached), or null for a malformed or unknown secret. No
   * failure limit applies: /keys/verify is called with the customer's own credential.
   */
  async lookup(secret: string): Promise<CachedKey | null> {
    const hashKey = secretHashKey(secret);
    const now = Date.now();
    // A hit is the very secret that passed the format and checksum checks when it was cached.
    const cached = this.cache.get(hashKey, now);
    if (cached !== undefined) return cached;
    const environment = parseSecret(secret);
    if (environment === null || this.cache.isUnknown(hashKey, now)) return null;
    const key = await this.load(hashOf(hashKey), hashKey, now);
    return key === null || key.environment !== environment ? null : key;
  }

  /**
   * X-API-Key -> principal. A cached key costs nothing more. An uncached secret that fails
   * (malformed, or unknown to Postgres now or a minute ago) counts against the client
   * address's failure limit; while the address is over it, an uncached secret is looked up
   * only if Redis marks its hash as a key's, else refused with 429 before any query.
   */
  authenticate(
    secret: string,
    request: FastifyRequest,
  ): ApiKeyPrincipal | Promise<ApiKeyPrincipal> {
    const hashKey = secretHashKey(secret);
    const now = Date.now();
    const cached = this.cache.get(hashKey, now);
    // A cached key is answered at once, without a promise.
    if (cached !== undefined) return this.admit(cached, request, now);
    return this.find(secret, hashOf(hashKey), hashKey, request.ip, now).then((key) =>
      this.admit(key, request, now),
    );
  }

  /** The principal of a known key, unless it is revoked, expired or used from elsewhere. */
  private admit(key: CachedKey, request: FastifyRequest, now: number): ApiKeyPrincipal {
    if (key.isRevoked) throw KeyErrors.revoked();
    if (key.expiresAtMs !== null && key.expiresAtMs <= now) throw KeyErrors.expired();
    if (!key.allowlist.allows(request.ip)) {
      // A valid key used from elsewhere: not a principal, but its usage (a 403).
      request.refusedKey = principalOf(key);
      throw KeyErrors.ipNotAllowed();
    }
    return principalOf(key);
  }

  /**
   * Whether `secret` is certainly no key's, decided without Postgres: not cached here, and
   * malformed, recently unknown, or not marked in Redis as a key's hash (one EXISTS). What a
   * client address over its failure limit is refused for, here and before routing.
   */
  async isForged(secret: string, now: number): Promise<boolean> {
    const hashKey = secretHashKey(secret);
    return (
      this.cache.get(hashKey, now) === undefined &&
      (await this.isUncachedForged(secret, hashOf(hashKey), hashKey, now))
    );
  }

  private async isUncachedForged(
    secret: string,
    hash: Buffer,
    hashKey: string,
    now: number,
  ): Promise<boolean> {
    return (
      parseSecret(secret) === null ||
      this.cache.isUnknown(hashKey, now) ||
      !(await this.knownHashes.has(hash))
    );
  }

  /** An uncached secret's key, or the failure to answer (401, or 429 past the address's limit). */
  private async find(
    secret: string,
    hash: Buffer,
    hashKey: string,
    ip: string,
    now: number,
  ): Promise<CachedKey> {
    // Usually refused before routing already (BlockedCredentials); here for a block that
    // began since.
    if (
      this.failures.isBlocked(ip, now) &&
      (await this.isUncachedForged(secret, hash, hashKey, now))
    ) {
      throw this.failures.blockedError(ip, now);
    }
    const environment = parseSecret(secret);
    if (environment === null || this.cache.isUnknown(hashKey, now)) {
      throw await this.failures.refuse(ip, KeyErrors.invalid(), now);
    }
    const key = await this.load(hash, hashKey, now);
    if (key === null || key.environment !== environment) {
      throw await this.failures.refuse(ip, KeyErrors.invalid(), now);
    }
    return key;
  }

  /** The cached form of a key, or null for an unknown secret (remembered as unknown briefly). */
  private async load(hash: Buffer, hashKey: string, now: number): Promise<CachedKey | null> {
    const epoch = this.cache.epoch;
    const found = await this.keys.findForAuth(hash);
    if (found === null) {
      this.cache.rememberUnknown(hashKey, now, epoch);
      return null;
    }
    void this.knownHashes.mark(hash);
    const { key, viaPrevious } = found;
    return this.cache.set(
      hashKey,
      compiled(key),
      viaPrevious ? (key.previousSecretExpiresAt?.getTime() ?? null) : null,
      now,
      epoch,
    );
  }
}
