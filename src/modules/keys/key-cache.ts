import { Injectable, type OnModuleInit } from '@nestjs/common';
import type { Permission } from '../../common/permissions.js';
import { RedisBus } from '../../redis/redis-bus.js';
import type { KeyRateLimit } from './api-key.entity.js';
import { IpAllowlist } from './ip-allowlist.js';
import type { Environment } from './key-secret.js';

/** Everything the hot path needs about a key, compiled once. */
export interface CachedKey {
  id: string;
  name: string;
  organizationId: string;
  projectId: number | null;
  environment: Environment;
  permissions: ReadonlySet<Permission>;
  allowlist: IpAllowlist;
  expiresAtMs: number | null;
  isRevoked: boolean;
  rateLimits: KeyRateLimit[];
  /** When this entry must be read again from Postgres (a previous secret's grace end, or a safety TTL). */
  staleAtMs: number;
}

/** How the cache names a secret hash. */
export function hashKeyOf(hash: Buffer): string {
  return hash.toString('base64');
}

/** A safety net only: changes reach every process through the channel within a second. */
const MAX_AGE_MS = 5 * 60_000;
const CHANNEL = 'keys:changed';
/** Carries the secret hash of a key just created or rotated, so no process still calls it unknown. */
const CREATED_CHANNEL = 'keys:created';
/** How long an unknown secret hash is answered without Postgres, and how many are remembered. */
export const UNKNOWN_TTL_MS = 60_000;
export const UNKNOWN_MAX_ENTRIES = 10_000;

/**
 * The in-process cache of API keys by secret hash, so an authenticated request touches no
 * Postgres after a key's first use. Any change to a key (update, rotate, revoke, delete) is
 * published on Redis; every api process drops its copy on receipt.
 *
 * Secret hashes Postgres did not know are remembered too, briefly and in bounded number
 * (oldest out first), so a forged but well-formed secret sent again costs no query; a key
 * created or rotated onto such a hash drops it on every process.
 */
@Injectable()
export class KeyCache implements OnModuleInit {
  private readonly byHash = new Map<string, CachedKey>();
  private readonly hashesById = new Map<string, Set<string>>();
  /** Unknown secret hash -> when it may be asked of Postgres again; insertion order is age. */
  private readonly unknown = new Map<string, number>();
  /**
   * Bumped by every drop: a load that started before a change must not cache what it read,
   * or a stale row could outlive the change that raced it.
   */
  private epochValue = 0;

  constructor(private readonly bus: RedisBus) {}

  async onModuleInit(): Promise<void> {
    await this.bus.subscribe(CHANNEL, {
      onMessage: (keyId) => this.drop(keyId),
      // After a reconnect the cache may have missed messages: start over.
      onResync: () => this.clear(),
    });
    await this.bus.subscribe(CREATED_CHANNEL, {
      onMessage: (hash) => this.forgetUnknown(hash),
      onResync: () => this.clear(),
    });
  }

  get(hash: string, nowMs: number): CachedKey | undefined {
    const entry = this.byHash.get(hash);
    if (entry === undefined) return undefined;
    if (nowMs >= entry.staleAtMs) {
      this.byHash.delete(hash);
      this.hashesById.get(entry.id)?.delete(hash);
      return undefined;
    }
    return entry;
  }

  get epoch(): number {
    return this.epochValue;
  }

  /** Caches `entry` unless a key changed since `epoch` was read (then it is only returned). */
  set(
    hash: string,
    entry: Omit<CachedKey, 'staleAtMs'>,
    staleAtMs: number | null,
    nowMs: number,
    epoch: number,
  ): CachedKey {
    const cached = { ...entry, staleAtMs: Math.min(staleAtMs ?? Infinity, nowMs + MAX_AGE_MS) };
    if (epoch !== this.epochValue) return cached;
    this.byHash.set(hash, cached);
    const hashes = this.hashesById.get(entry.id) ?? new Set<string>();
    hashes.add(hash);
    this.hashesById.set(entry.id, hashes);
    return cached;
  }

  /** Whether Postgres recently did not know this secret hash. */
  isUnknown(hash: string, nowMs: number): boolean {
    const until = this.unknown.get(hash);
    if (until === undefined) return false;
    if (nowMs < until) return true;
    this.unknown.delete(hash);
    return false;
  }

  /** Remembers an unknown hash, unless a key changed or was created since `epoch` was read. */
  rememberUnknown(hash: string, nowMs: number, epoch: number): void {
    if (epoch !== this.epochValue) return;
    this.unknown.delete(hash);
    if (this.unknown.size >= UNKNOWN_MAX_ENTRIES) {
      const oldest = this.unknown.keys().next();
      if (oldest.done !== true) this.unknown.delete(oldest.value);
    }
    this.unknown.set(hash, nowMs + UNKNOWN_TTL_MS);
  }

  get unknownCount(): number {
    return this.unknown.size;
  }

  /** A key now has this secret hash: no process may keep calling it unknown. */
  async created(hash: string): Promise<void> {
    this.forgetUnknown(hash);
    await this.bus.publish(CREATED_CHANNEL, hash);
  }

  /** Drops the key here and tells every other process to do the same. */
  async invalidate(keyId: string): Promise<void> {
    this.drop(keyId);
    await this.bus.publish(CHANNEL, keyId);
  }

  /** Drops the key here only (its next request reads it from Postgres again). */
  forget(keyId: string): void {
    this.drop(keyId);
  }

  private drop(keyId: string): void {
    this.epochValue += 1;
    for (const hash of this.hashesById.get(keyId) ?? []) this.byHash.delete(hash);
    this.hashesById.delete(keyId);
  }

  private forgetUnknown(hash: string): void {
    this.epochValue += 1;
    this.unknown.delete(hash);
  }

  private clear(): void {
    this.epochValue += 1;
    this.byHash.clear();
    this.hashesById.clear();
    this.unknown.clear();
  }
}
