import { describe, expect, it } from '@jest/globals';
import { copyLines, copyText } from './copy-rows.js';

describe('COPY text format', () => {
  it('writes null as \\N and numbers as they print', () => {
    expect(copyText(null)).toBe('\\N');
    expect(copyText(1.25)).toBe('1.25');
    expect(copyText(-3)).toBe('-3');
  });

  it('escapes the characters the format gives a meaning to', () => {
    expect(copyText('a\\b')).toBe('a\\\\b');
    expect(copyText('line\nnext\rback\ttab')).toBe('line\\nnext\\rback\\ttab');
    // The literal text \N is data, not null.
    expect(copyText('\\N')).toBe('\\\\N');
  });

  it('replaces NUL, which Postgres text cannot hold', () => {
    expect(copyText('a\0b')).toBe('a\uFFFDb');
  });

  it('leaves everything else as it is', () => {
    expect(copyText('Mozilla/5.0 (X11; Linux) "quoted", ünïcödé ✓')).toBe(
      'Mozilla/5.0 (X11; Linux) "quoted", ünïcödé ✓',
    );
  });

  it('one line per row, the columns tab-separated in the order given', () => {
    const rows = [
      { a: 'x', b: 1, c: null },
      { a: 'y\tz', b: 2, c: 'w' },
    ];
    expect(copyLines(rows, ['c', 'a', 'b'])).toBe('\\N\tx\t1\nw\ty\\tz\t2\n');
  });
});
