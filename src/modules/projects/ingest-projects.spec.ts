import { describe, expect, it } from '@jest/globals';
import type { RedisBus } from '../../redis/redis-bus.js';
import { IngestProjects } from './ingest-projects.js';
import type { Project } from './project.entity.js';
import type { ProjectsRepository } from './projects.repository.js';

const ORG = '00000000-0000-4000-8000-000000000001';

function setup(rows: Map<number, Partial<Project>>) {
  let reads = 0;
  let pending: (() => void) | undefined;
  let holdNext = false;
  const published: string[] = [];
  const repository = {
    findForIngest: async (id: number) => {
      reads += 1;
      if (holdNext) {
        holdNext = false;
        await new Promise<void>((resolve) => (pending = resolve));
      }
      const row = rows.get(id);
      return row === undefined ? null : ({ organizationId: ORG, ...row, id } as Project);
    },
  } as unknown as ProjectsRepository;
  const bus = {
    subscribe: () => Promise.resolve(),
    publish: (_channel: string, message: string) => {
      published.push(message);
      return Promise.resolve();
    },
  } as unknown as RedisBus;
  return {
    cache: new IngestProjects(repository, bus),
    reads: () => reads,
    published,
    hold: () => (holdNext = true),
    release: () => pending?.(),
  };
}

describe('IngestProjects', () => {
  it('reads a project once, with its limit or the default, and remembers unknown ids', async () => {
    const rows = new Map<number, Partial<Project>>([
      [1, { publicKey: 'a', ingestRateLimit: null }],
      [2, { publicKey: 'b', ingestRateLimit: { window: 'second', limit: 5 } }],
    ]);
    const { cache, reads } = setup(rows);
    expect(await cache.find(1, 0)).toMatchObject({
      id: 1,
      organizationId: ORG,
      publicKey: 'a',
      ingestRateLimit: { window: 'minute', limit: 1000 },
    });
    expect((await cache.find(2, 0))?.ingestRateLimit).toEqual({ window: 'second', limit: 5 });
    expect(await cache.find(3, 0)).toBeNull();
    await cache.find(1, 1000);
    await cache.find(3, 1000);
    expect(reads()).toBe(3);
    // Unknown ids are asked again after a minute, known ones after five.
    await cache.find(3, 61_000);
    await cache.find(1, 61_000);
    expect(reads()).toBe(4);
    await cache.find(1, 301_000);
    expect(reads()).toBe(5);
  });

  it('drops a changed project here and tells the other processes', async () => {
    const rows = new Map<number, Partial<Project>>([
      [1, { publicKey: 'a', ingestRateLimit: null }],
    ]);
    const { cache, reads, published } = setup(rows);
    await cache.find(1, 0);
    rows.delete(1);
    await cache.changed(1);
    expect(published).toEqual(['1']);
    expect(await cache.find(1, 0)).toBeNull();
    expect(reads()).toBe(2);
  });

  it('does not cache a read that raced a change (it could be from before it)', async () => {
    const rows = new Map<number, Partial<Project>>([
      [1, { publicKey: 'a', ingestRateLimit: null }],
    ]);
    const { cache, reads, hold, release } = setup(rows);
    hold();
    const racing = cache.find(1, 0);
    await cache.changed(1);
    release();
    expect(await racing).not.toBeNull();
    await cache.find(1, 0);
    expect(reads()).toBe(2);
  });
});
