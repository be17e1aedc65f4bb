import { UsageError } from '../errors.js';
import type { RawOptions } from './options.js';

/**
 * Flag checks for `blast` and `kill-pod`. Pure: they run before any API call, so a typo
 * never creates a Job. Each error names the flag and the fix.
 */

export type BlastVia = 'service' | 'port-forward' | 'both';

export interface BlastPlan {
  count: number;
  via: BlastVia;
  /** Concurrent requests; the Job still runs a single curl process in a single pod. */
  parallel: number;
  keepAlive: boolean;
  timeoutSeconds: number;
  json: boolean;
}

export const MAX_COUNT = 100_000;
export const MAX_PARALLEL = 50;
export const MAX_TIMEOUT_SECONDS = 3600;
export const DEFAULT_COUNT = 20;
export const DEFAULT_TIMEOUT_SECONDS = 120;

const VIAS: readonly BlastVia[] = ['service', 'port-forward', 'both'];

function text(raw: RawOptions, key: string): string | undefined {
  const value = raw[key];
  if (value === undefined || value === false) return undefined;
  if (value === true) return '';
  return value;
}

export function integerFlag(
  flag: string,
  raw: string,
  min: number,
  max: number,
  example: number,
): number {
  const trimmed = raw.trim();
  if (!/^\d+$/.test(trimmed)) {
    throw new UsageError(
      `${flag} ${JSON.stringify(raw)} is not a whole number; give an integer from ${min} to ${max} (e.g. ${flag} ${example}).`,
    );
  }
  const value = Number(trimmed);
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(
      `${flag} ${trimmed} is out of range; give an integer from ${min} to ${max} (e.g. ${flag} ${example}).`,
    );
  }
  return value;
}

export function planBlast(raw: RawOptions): BlastPlan {
  const count = integerFlag(
    '--count',
    text(raw, 'count') ?? String(DEFAULT_COUNT),
    1,
    MAX_COUNT,
    200,
  );

  const viaText = text(raw, 'via') ?? 'both';
  if (!(VIAS as readonly string[]).includes(viaText)) {
    throw new UsageError(
      `--via ${JSON.stringify(viaText)} is not a path; give one of ${VIAS.join(', ')} (e.g. --via service).`,
    );
  }
  const via = viaText as BlastVia;

  const parallel = integerFlag('--parallel', text(raw, 'parallel') ?? '1', 1, MAX_PARALLEL, 5);
  if (parallel > count) {
    throw new UsageError(
      `--parallel ${parallel} is more than --count ${count}; give --parallel at most ${count}, or a larger --count.`,
    );
  }

  const keepAlive = raw.keepAlive === true;
  // The keep-alive lesson is "one connection, one pod". With several transfers at once curl
  // opens several connections, each balanced on its own, and the lesson would be muddled.
  if (keepAlive && parallel > 1) {
    throw new UsageError(
      `--keep-alive reuses one connection, which --parallel ${parallel} cannot do; drop --parallel (or drop --keep-alive).`,
    );
  }

  const timeoutSeconds = integerFlag(
    '--timeout',
    text(raw, 'timeout') ?? String(DEFAULT_TIMEOUT_SECONDS),
    1,
    MAX_TIMEOUT_SECONDS,
    DEFAULT_TIMEOUT_SECONDS,
  );

  return { count, via, parallel, keepAlive, timeoutSeconds, json: raw.json === true };
}

export interface KillPlan {
  pod?: string;
  /** Seed for the random choice of pod, so a lesson can be repeated exactly. */
  seed?: string;
  graceSeconds?: number;
  timeoutSeconds: number;
  json: boolean;
}

const POD_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export function planKillPod(raw: RawOptions): KillPlan {
  const pod = text(raw, 'pod');
  if (pod !== undefined && (pod.length > 253 || !POD_NAME.test(pod))) {
    throw new UsageError(
      `--pod ${JSON.stringify(pod)} is not a pod name; give one from \`kubectl get pods -n multi-replica-web\`, or leave --pod out for a random ready pod.`,
    );
  }
  const seed = text(raw, 'seed');
  if (seed !== undefined && seed.trim() === '') {
    throw new UsageError('--seed is empty; give any word or number (e.g. --seed 42).');
  }
  const graceText = text(raw, 'grace');
  // 0 through the API is a force delete: the pod object goes while its container may still
  // run. kubectl turns 0 into 1 unless --force; so does this, keeping a real termination.
  const graceSeconds =
    graceText === undefined
      ? undefined
      : Math.max(1, integerFlag('--grace', graceText, 0, 3600, 30));
  const timeoutSeconds = integerFlag(
    '--timeout',
    text(raw, 'timeout') ?? String(DEFAULT_TIMEOUT_SECONDS),
    1,
    MAX_TIMEOUT_SECONDS,
    DEFAULT_TIMEOUT_SECONDS,
  );
  return {
    ...(pod !== undefined ? { pod } : {}),
    ...(seed !== undefined ? { seed } : {}),
    ...(graceSeconds !== undefined ? { graceSeconds } : {}),
    timeoutSeconds,
    json: raw.json === true,
  };
}

/**
 * A small deterministic generator (FNV-1a hash of the seed into mulberry32), so
 * `kill-pod --seed 42` picks the same pod from the same list every time.
 */
export function seededRandom(seed: string): () => number {
  let h = 0x811c9dc5;
  for (let i = 0; i < seed.length; i += 1) {
    h ^= seed.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  let state = h >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One of `names`, sorted first so the API's list order does not matter. */
export function pickOne(names: readonly string[], random: () => number): string | undefined {
  if (names.length === 0) return undefined;
  const sorted = [...names].sort();
  return sorted[Math.min(sorted.length - 1, Math.floor(random() * sorted.length))];
}
