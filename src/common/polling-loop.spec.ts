import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { PollingLoop } from './polling-loop.js';

describe('PollingLoop.wake', () => {
  let loop: PollingLoop | undefined;
  afterEach(async () => {
    await loop?.stop();
    jest.useRealTimers();
  });

  /** A loop whose passes are counted; each says nothing more is waiting. */
  function counted(idleMs: number): { passes: () => number } {
    let passes = 0;
    loop = new PollingLoop(() => {
      passes += 1;
      return Promise.resolve(false);
    }, idleMs);
    return { passes: () => passes };
  }

  const advance = async (ms: number) => {
    await jest.advanceTimersByTimeAsync(ms);
  };

  it('runs the pass once wakes pause for quietMs, not idleMs later', async () => {
    jest.useFakeTimers();
    const { passes } = counted(1_000);
    loop?.start();
    await advance(200);
    loop?.wake(100);
    await advance(99);
    expect(passes()).toBe(0);
    await advance(1);
    expect(passes()).toBe(1);
  });

  it('work that keeps arriving is still taken every idleMs, not postponed by each wake', async () => {
    jest.useFakeTimers();
    const { passes } = counted(1_000);
    loop?.start();
    for (let t = 0; t < 990; t += 30) {
      loop?.wake(100);
      await advance(30);
    }
    expect(passes()).toBe(0);
    await advance(20);
    expect(passes()).toBe(1);
  });

  it('a wake during a pass brings the next one forward to quietMs after it', async () => {
    jest.useFakeTimers();
    let passes = 0;
    // Each pass takes 50 ms.
    loop = new PollingLoop(() => {
      passes += 1;
      return new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 50));
    }, 1_000);
    loop.start(0);
    await advance(10);
    expect(passes).toBe(1);
    loop.wake(100);
    await advance(139);
    expect(passes).toBe(1);
    await advance(1);
    expect(passes).toBe(2);
    // stop() waits for the pass in flight, which ends on the fake clock.
    const stopped = loop.stop();
    await advance(50);
    await stopped;
    loop = undefined;
  });
});
