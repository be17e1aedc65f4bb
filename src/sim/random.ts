import { randomBytes } from 'node:crypto';

/** A source of uniform numbers in [0, 1), like Math.random. */
export type Random = () => number;

/**
 * A seeded generator (xoshiro128**), so a test that fixes the seed sees the same proxy
 * picks and names on every run. Without a seed it starts from the OS entropy source.
 */
export function seededRandom(seed?: string): Random {
  const state = seed === undefined ? entropyState() : hashSeed(seed);
  // An all-zero state would make xoshiro emit zeros forever.
  if (!state.some((w) => w !== 0)) state[0] = 0x9e3779b9;
  let [a, b, c, d] = state as [number, number, number, number];
  return () => {
    const result = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return result / 4294967296;
  };
}

/** An independent generator derived from `parent`, so one component's draws do not shift another's. */
export function forkRandom(parent: Random, label: string): Random {
  const words = [parent(), parent()].map((x) => Math.floor(x * 4294967296).toString(16));
  return seededRandom(`${label}:${words.join(':')}`);
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** cyrb128: spreads a string over four 32-bit words. */
function hashSeed(text: string): number[] {
  let h1 = 1779033703;
  let h2 = 3144134277;
  let h3 = 1013904242;
  let h4 = 2773480762;
  for (let i = 0; i < text.length; i += 1) {
    const k = text.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  return [(h1 ^ h2 ^ h3 ^ h4) >>> 0, (h2 ^ h1) >>> 0, (h3 ^ h1) >>> 0, (h4 ^ h1) >>> 0];
}

function entropyState(): number[] {
  const bytes = randomBytes(16);
  return [0, 4, 8, 12].map((o) => bytes.readUInt32LE(o));
}
