import { describe, expect, it } from '@jest/globals';
import { PollingLoop } from './polling-loop.js';

/** A loop whose passes are counted and can be held open; the idle interval is long. */
function counted() {
  let passes = 0;
  let hold: Promise<void> | undefined;
  const waiters: (() => void)[] = [];
  const loop = new PollingLoop(async () => {
    passes += 1;
    waiters.splice(0).forEach((wake) => wake());
    await hold;
    return false;
  }, 60_000);
  return {
    loop,
    passes: () => passes,
    /** Resolves at the next pass's start. */
    nextPass: () => new Promise<void>((resolve) => waiters.push(resolve)),
    holdPasses: () => {
      let release!: () => void;
      hold = new Promise((resolve) => (release = resolve));
      return () => {
        hold = undefined;
        release();
      };
    },
  };
}

describe('PollingLoop', () => {
  it('runs a pass at once when woken, instead of waiting out the idle interval', async () => {
    const { loop, passes, nextPass } = counted();
    const first = nextPass();
    loop.start(0);
    await first;
    const second = nextPass();
    loop.wake();
    await second;
    expect(passes()).toBe(2);
    await loop.stop();
  });

  it('woken during a pass, runs one more right after it (however often woken)', async () => {
    const { loop, passes, nextPass, holdPasses } = counted();
    const release = holdPasses();
    const first = nextPass();
    loop.start(0);
    await first;
    loop.wake();
    loop.wake();
    const second = nextPass();
    release();
    await second;
    // Then idle: no third pass within the interval.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(passes()).toBe(2);
    await loop.stop();
  });

  it('is not woken once stopped', async () => {
    const { loop, passes } = counted();
    loop.start(60_000);
    await loop.stop();
    loop.wake();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(passes()).toBe(0);
  });
});
