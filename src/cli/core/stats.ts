import chisquareCdf from '@stdlib/stats-base-dists-chisquare-cdf';
import type { Histogram } from './histogram.js';
import type { RequestRecord } from './curl-log.js';

export interface Latency {
  p50: number;
  p95: number;
  max: number;
}

/** Nearest-rank percentile of sorted values: the smallest value with at least q of the data at or below it. */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] as number;
}

/** Milliseconds, rounded to 0.1 ms; requests that got no response are left out. */
export function latency(records: readonly RequestRecord[]): Latency | null {
  const ms = records
    .filter((r) => r.status !== 0)
    .map((r) => r.seconds * 1000)
    .sort((a, b) => a - b);
  if (ms.length === 0) return null;
  const round = (x: number) => Math.round(x * 10) / 10;
  return {
    p50: round(percentile(ms, 0.5)),
    p95: round(percentile(ms, 0.95)),
    max: round(ms[ms.length - 1] as number),
  };
}

export type Verdict = 'even' | 'too-few' | 'uneven' | 'one-pod';

export interface ChiSquare {
  statistic: number;
  pValue: number;
  degreesOfFreedom: number;
  /** What an even split would put on each pod. */
  expectedPerPod: number;
}

export interface Evenness {
  chiSquare: ChiSquare | null;
  verdict: Verdict;
  /** Requests after which each pod's share is within ±10% of even about 95% of the time. */
  evenAt: number;
  sentence: string;
}

/** Below this expected count per pod the chi-square approximation is not trusted (Cochran's rule). */
export const MIN_EXPECTED_PER_POD = 5;
export const UNEVEN_P_VALUE = 0.01;
export const SUGGESTED_COUNT = 200;

/**
 * Pearson's chi-square goodness-of-fit against "every pod equally likely", k-1 degrees of
 * freedom. Null with fewer than two pods or no answers: there is nothing to compare.
 */
export function chiSquareEven(counts: readonly number[]): ChiSquare | null {
  const k = counts.length;
  const n = counts.reduce((a, b) => a + b, 0);
  if (k < 2 || n === 0) return null;
  const expected = n / k;
  const statistic = counts.reduce(
    (sum, observed) => sum + (observed - expected) ** 2 / expected,
    0,
  );
  const degreesOfFreedom = k - 1;
  const pValue = Math.min(1, Math.max(0, 1 - chisquareCdf(statistic, degreesOfFreedom)));
  return { statistic, pValue, degreesOfFreedom, expectedPerPod: expected };
}

/**
 * How many requests make the split look even. Each pod's count is Binomial(n, 1/k): mean n/k,
 * standard deviation sqrt(n·(1/k)·(1−1/k)) = sqrt(n·(k−1))/k. Asking that ±2σ (about 95% of
 * blasts) stay within ±10% of the mean:
 *   2·sqrt(n·(k−1))/k ≤ 0.1·n/k  ⇔  4·n·(k−1) ≤ 0.01·n²  ⇔  n ≥ 400·(k−1).
 * For 5 pods that is 1600 requests; at 20 requests ±2σ is ±89% of the mean.
 */
export function requestsForEven(pods: number): number {
  return 400 * Math.max(1, pods - 1);
}

export function evenness(histogram: Histogram): Evenness {
  const counts = histogram.rows.map((r) => r.count);
  const k = counts.length;
  const evenAt = requestsForEven(k);
  const chiSquare = chiSquareEven(counts);
  const reached = counts.filter((c) => c > 0).length;
  if (chiSquare === null) {
    return {
      chiSquare,
      verdict: k < 2 ? 'one-pod' : 'too-few',
      evenAt,
      sentence:
        k < 2
          ? 'Only one pod is ready, so there is no split to judge.'
          : 'No request was answered, so there is no split to judge.',
    };
  }
  const p = formatP(chiSquare.pValue);
  if (chiSquare.expectedPerPod < MIN_EXPECTED_PER_POD) {
    return {
      chiSquare,
      verdict: 'too-few',
      evenAt,
      sentence: `Too few requests to tell: ${fmt(chiSquare.expectedPerPod)} per pod is expected, and random choice swings a lot at that size (try --count ${SUGGESTED_COUNT}).`,
    };
  }
  if (chiSquare.pValue < UNEVEN_P_VALUE) {
    return {
      chiSquare,
      verdict: reached === 1 ? 'one-pod' : 'uneven',
      evenAt,
      sentence:
        reached === 1
          ? `Every answered request went to one pod (chi-square ${fmt(chiSquare.statistic)}, p ${p}): this is not random choice per connection.`
          : `Clearly uneven (chi-square ${fmt(chiSquare.statistic)}, p ${p}): random choice would give a split this lopsided less than 1 time in 100.`,
    };
  }
  return {
    chiSquare,
    verdict: 'even',
    evenAt,
    sentence: `Even enough for random choice (chi-square ${fmt(chiSquare.statistic)}, p ${p}); differences this size are normal.`,
  };
}

function fmt(x: number): string {
  return x >= 100 ? x.toFixed(0) : x.toFixed(1);
}

export function formatP(p: number): string {
  if (p < 0.001) return '< 0.001';
  return `= ${p.toFixed(3)}`;
}
