import { describe, expect, it } from '@jest/globals';
import { GroupCommit } from './group-commit.js';

/** A write that holds each call until release() is called: tests decide when commits end. */
function heldWrites(refuse: (row: string) => boolean = () => false) {
  const calls: string[][] = [];
  const pending: (() => void)[] = [];
  const write = (rows: string[]) => {
    calls.push(rows);
    return new Promise<void>((resolve, reject) => {
      pending.push(() =>
        rows.some(refuse) ? reject(new Error(`refused ${rows.join(',')}`)) : resolve(),
      );
    });
  };
  /** Ends every write started so far, then lets their callbacks run. */
  const release = async () => {
    for (const end of pending.splice(0)) end();
    for (let i = 0; i < 10; i += 1) await Promise.resolve();
  };
  return { calls, write, release };
}

const options = { maxInFlight: 2, maxRows: 3, maxBytes: 10, bytesOf: (row: string) => row.length };

describe('group commit', () => {
  it('writes a row at once while a slot is free, and settles it only after its write', async () => {
    const writes = heldWrites();
    const commit = new GroupCommit({ ...options, write: writes.write });
    let settled = false;
    const added = commit.add('a').then(() => (settled = true));
    expect(writes.calls).toEqual([['a']]);
    await Promise.resolve();
    expect(settled).toBe(false);
    await writes.release();
    await added;
    expect(settled).toBe(true);
  });

  it('rows that arrive while every slot is busy go in one write, within maxRows and maxBytes', async () => {
    const writes = heldWrites();
    const commit = new GroupCommit({ ...options, write: writes.write });
    const all = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'hhhhhhhhhhhh', 'i'].map((row) =>
      commit.add(row),
    );
    expect(writes.calls).toEqual([['a'], ['b']]);
    await writes.release();
    // Two slots freed: the next three waiting rows, then the three after.
    expect(writes.calls.slice(2)).toEqual([
      ['c', 'd', 'e'],
      ['f', 'g'],
    ]);
    await writes.release();
    // A row over maxBytes goes alone.
    expect(writes.calls.slice(4)).toEqual([['hhhhhhhhhhhh'], ['i']]);
    await writes.release();
    await Promise.all(all);
  });

  it('a refused write of several rows is written again row by row: only the bad row fails', async () => {
    const writes = heldWrites((row) => row === 'bad');
    const commit = new GroupCommit({ ...options, maxInFlight: 1, write: writes.write });
    const first = commit.add('first');
    const rest = ['x', 'bad', 'y'].map((row) =>
      commit.add(row).then(
        () => `${row} ok`,
        (error: Error) => `${row} ${error.message}`,
      ),
    );
    await writes.release();
    await first;
    expect(writes.calls.at(-1)).toEqual(['x', 'bad', 'y']);
    await writes.release();
    expect(writes.calls.slice(-3)).toEqual([['x'], ['bad'], ['y']]);
    await writes.release();
    expect(await Promise.all(rest)).toEqual(['x ok', 'bad refused bad', 'y ok']);
  });
});
