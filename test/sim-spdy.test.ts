import { createHash } from 'node:crypto';
import { deflateSync, inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { SPDY3_DICTIONARY } from '../src/sim/api/spdy-dictionary.js';

describe('SPDY/3 header dictionary', () => {
  it('is byte for byte the one of the SPDY/3 draft (1423 bytes, known digest)', () => {
    expect(SPDY3_DICTIONARY.length).toBe(1423);
    expect(createHash('sha256').update(SPDY3_DICTIONARY).digest('hex')).toBe(
      '51d27341373f923f3cd88e1eb7162aeaa3723d7585ff2399201dc06498407f02',
    );
  });

  it('compresses and restores a header block', () => {
    const block = Buffer.from('\u0000\u0000\u0000\u0001\u0000\u0000\u0000\u0004porthttp');
    const packed = deflateSync(block, { dictionary: SPDY3_DICTIONARY });
    expect(inflateSync(packed, { dictionary: SPDY3_DICTIONARY })).toEqual(block);
  });
});
