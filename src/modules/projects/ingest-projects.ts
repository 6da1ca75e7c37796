import { Injectable, type OnModuleInit } from '@nestjs/common';
import { RedisBus } from '../../redis/redis-bus.js';
import { effectiveIngestRateLimit } from './ingest-rate-limit.js';
import type { IngestRateLimit } from './project.entity.js';
import { ProjectsRepository } from './projects.repository.js';

/** What Sentry ingestion needs to know about a project, per envelope. */
export interface IngestProject {
  id: number;
  organizationId: string;
  publicKey: string;
  /** The limit that applies (the project's own, else the default). */
  ingestRateLimit: IngestRateLimit;
}

/** A safety net only: changes reach every process through the channel within a second. */
const MAX_AGE_MS = 5 * 60_000;
const CHANNEL = 'projects:changed';
/** How long an unknown project id is answered without Postgres, and how many are remembered. */
const UNKNOWN_TTL_MS = 60_000;
const UNKNOWN_MAX_ENTRIES = 10_000;
/** Projects held at most; the oldest entry leaves first (a cache, not a copy of the table). */
const KNOWN_MAX_ENTRIES = 100_000;

interface Entry {
  project: IngestProject | null;
  staleAtMs: number;
}

/**
 * The in-process cache of projects for Sentry ingestion, so an envelope costs no Postgres
 * query after its project's first one (like API keys, see KeyCache). A project created,
 * deleted or given another ingest limit is published on Redis, and every api process drops
 * its copy on receipt; ids Postgres did not know are remembered briefly and in bounded number.
 */
@Injectable()
export class IngestProjects implements OnModuleInit {
  private readonly known = new Map<number, Entry>();
  private readonly unknown = new Map<number, Entry>();
  /** Bumped by every drop: a load that raced a change must not cache what it read. */
  private epoch = 0;

  constructor(
    private readonly projects: ProjectsRepository,
    private readonly bus: RedisBus,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.bus.subscribe(CHANNEL, {
      onMessage: (id) => this.drop(Number(id)),
      onResync: () => this.clear(),
    });
  }

  /** The project with this id, or null when there is none. */
  async find(id: number, nowMs = Date.now()): Promise<IngestProject | null> {
    const cached = this.known.get(id) ?? this.unknown.get(id);
    if (cached !== undefined && nowMs < cached.staleAtMs) return cached.project;
    const epoch = this.epoch;
    const row = await this.projects.findForIngest(id);
    const project: IngestProject | null =
      row === null
        ? null
        : {
            id: row.id,
            organizationId: row.organizationId,
            publicKey: row.publicKey,
            ingestRateLimit: effectiveIngestRateLimit(row.ingestRateLimit),
          };
    if (epoch === this.epoch) this.remember(id, project, nowMs);
    return project;
  }

  /** After a project's change is committed: every process reads it again. */
  async changed(id: number): Promise<void> {
    this.drop(id);
    await this.bus.publish(CHANNEL, String(id));
  }

  private remember(id: number, project: IngestProject | null, nowMs: number): void {
    const [map, max, ttl] =
      project === null
        ? [this.unknown, UNKNOWN_MAX_ENTRIES, UNKNOWN_TTL_MS]
        : [this.known, KNOWN_MAX_ENTRIES, MAX_AGE_MS];
    map.delete(id);
    if (map.size >= max) {
      const oldest = map.keys().next();
      if (oldest.done !== true) map.delete(oldest.value);
    }
    map.set(id, { project, staleAtMs: nowMs + ttl });
  }

  private drop(id: number): void {
    this.epoch += 1;
    this.known.delete(id);
    this.unknown.delete(id);
  }

  private clear(): void {
    this.epoch += 1;
    this.known.clear();
    this.unknown.clear();
  }
}
