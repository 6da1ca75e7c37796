import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ROLES, type Role } from '../../common/permissions.js';
import { RedisBus } from '../../redis/redis-bus.js';

/** A safety net only: changes reach every process through the channel within a second. */
const MAX_AGE_MS = 5 * 60_000;
/** Bounded: past this many (user, organization) pairs the oldest entries are dropped. */
const MAX_ENTRIES = 50_000;
const CHANNEL = 'memberships:changed';

interface Entry {
  /** The member's current role, or null when the pair is not (or no longer) a membership. */
  role: Role | null;
  staleAtMs: number;
}

function keyOf(userId: string, organizationId: string): string {
  return `${userId}:${organizationId}`;
}

/**
 * Every api process's copy of "which role does this user hold in this organization", so a
 * bearer token is checked against the membership as it is now (a removed member, a deleted
 * organization: 401; a demotion: the new role) without a Postgres query per request. Filled
 * from Postgres on a miss (one read however many requests wait for it), negative answers
 * included, and dropped on every process through the Redis bus when a membership changes or
 * an organization is deleted.
 */
@Injectable()
export class MembershipCache implements OnModuleInit {
  private readonly logger = new Logger('MembershipCache');
  private readonly entries = new Map<string, Entry>();
  private readonly loading = new Map<string, Promise<Role | null>>();
  /** Bumped by every drop, so a read that raced a change does not cache what it read. */
  private epoch = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly bus: RedisBus,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.bus.subscribe(CHANNEL, {
      onMessage: (message) => this.apply(message),
      // After a reconnect messages may have been missed: start over.
      onResync: () => this.clear(),
    });
  }

  /** The user's role in the organization now, or null when they are not a member. */
  roleOf(
    userId: string,
    organizationId: string,
    nowMs: number,
  ): Role | null | Promise<Role | null> {
    const key = keyOf(userId, organizationId);
    const entry = this.entries.get(key);
    if (entry !== undefined && nowMs < entry.staleAtMs) return entry.role;
    return this.load(key, userId, organizationId, nowMs);
  }

  /** After a membership was added, changed or removed: dropped here and on every process. */
  async membershipChanged(userId: string, organizationId: string): Promise<void> {
    const message = `m:${keyOf(userId, organizationId)}`;
    this.apply(message);
    await this.publish(message);
  }

  /** After an organization was deleted: every entry of it, here and on every process. */
  async organizationDeleted(organizationId: string): Promise<void> {
    const message = `o:${organizationId}`;
    this.apply(message);
    await this.publish(message);
  }

  private async publish(message: string): Promise<void> {
    await this.bus.publish(CHANNEL, message).catch((error: unknown) => {
      // The change is committed; other processes catch up at MAX_AGE_MS or on resync.
      this.logger.warn(`could not publish a membership change: ${String(error)}`);
    });
  }

  private load(
    key: string,
    userId: string,
    organizationId: string,
    nowMs: number,
  ): Promise<Role | null> {
    const inFlight = this.loading.get(key);
    if (inFlight !== undefined) return inFlight;
    const epoch = this.epoch;
    const read = this.dataSource
      .query<{ role: string }[]>(
        'SELECT role FROM memberships WHERE user_id = $1 AND organization_id = $2',
        [userId, organizationId],
      )
      .then((rows) => {
        const found = rows[0]?.role;
        const role = ROLES.find((candidate) => candidate === found) ?? null;
        if (epoch === this.epoch) {
          if (this.entries.size >= MAX_ENTRIES) {
            const oldest = this.entries.keys().next().value;
            if (oldest !== undefined) this.entries.delete(oldest);
          }
          this.entries.set(key, { role, staleAtMs: nowMs + MAX_AGE_MS });
        }
        return role;
      })
      .finally(() => {
        if (this.loading.get(key) === read) this.loading.delete(key);
      });
    this.loading.set(key, read);
    return read;
  }

  private apply(message: string): void {
    this.epoch += 1;
    if (message.startsWith('m:')) {
      const key = message.slice(2);
      this.entries.delete(key);
      this.loading.delete(key);
    } else if (message.startsWith('o:')) {
      const suffix = `:${message.slice(2)}`;
      for (const key of this.entries.keys()) if (key.endsWith(suffix)) this.entries.delete(key);
      for (const key of this.loading.keys()) if (key.endsWith(suffix)) this.loading.delete(key);
    } else {
      this.clear();
    }
  }

  private clear(): void {
    this.epoch += 1;
    this.entries.clear();
    this.loading.clear();
  }
}
