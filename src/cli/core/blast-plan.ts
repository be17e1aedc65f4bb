import { UsageError } from '../errors.js';
import type { Affinity, BlastFlags, BlastVia, KillPodFlags } from './flags.js';

/**
 * Flag checks for `blast` and `kill-pod`. Pure: they run before any API call, so a typo
 * never creates a Job. Each error names the flag and the fix.
 */

export type { BlastVia };

export interface BlastPlan {
  count: number;
  via: BlastVia;
  /** Concurrent requests; the Job still runs a single curl process in a single pod. */
  parallel: number;
  keepAlive: boolean;
  /** sessionAffinity the Service gets for this blast (restored afterwards). */
  affinity?: Affinity;
  timeoutSeconds: number;
  json: boolean;
}

/** How `blast`'s flags combine; each alone was checked as it was parsed (core/flags.ts). */
export function planBlast(flags: BlastFlags): BlastPlan {
  const { count, via, parallel } = flags;
  if (parallel > count) {
    throw new UsageError(
      `--parallel ${parallel} is more than --count ${count}; give --parallel at most ${count}, or a larger --count.`,
    );
  }
  const keepAlive = flags.keepAlive === true;
  // The keep-alive lesson is "one connection, one pod". With several transfers at once curl
  // opens several connections, each balanced on its own, and the lesson would be muddled.
  if (keepAlive && parallel > 1) {
    throw new UsageError(
      `--keep-alive reuses one connection, which --parallel ${parallel} cannot do; drop --parallel (or drop --keep-alive).`,
    );
  }
  if (flags.affinity !== undefined && via === 'port-forward') {
    throw new UsageError(
      `--affinity sets how the Service picks a pod, and --via port-forward does not go through the Service; use --via service or both (or drop --affinity).`,
    );
  }
  return {
    count,
    via,
    parallel,
    keepAlive,
    ...(flags.affinity !== undefined ? { affinity: flags.affinity } : {}),
    timeoutSeconds: flags.timeout,
    json: flags.json === true,
  };
}

export interface KillPlan {
  pod?: string;
  /** Seed for the random choice of pod, so a lesson can be repeated exactly. */
  seed?: string;
  /** 0 only with --force: the API removes the pod at once. */
  graceSeconds?: number;
  timeoutSeconds: number;
  json: boolean;
  underLoad: boolean;
  force: boolean;
  /** The replica's process crashes instead of its pod being deleted. */
  crash: boolean;
}

const POD_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export function validatePodName(pod: string): string {
  if (pod.length > 253 || !POD_NAME.test(pod)) {
    throw new UsageError(
      `--pod ${JSON.stringify(pod)} is not a pod name; give one from \`kubectl get pods -n multi-replica-web\`, or leave --pod out for a random ready pod.`,
    );
  }
  return pod;
}

export function validateSeed(seed: string): string {
  if (seed.trim() === '') {
    throw new UsageError('--seed is empty; give any word or number (e.g. --seed 42).');
  }
  return seed;
}

export function planKillPod(flags: KillPodFlags): KillPlan {
  const force = flags.force === true;
  const underLoad = flags.underLoad === true;
  const crash = flags.crash === true;
  // A crash deletes nothing: the flags of a deletion have nothing to act on.
  if (crash && force) {
    throw new UsageError(
      '--crash makes the server process exit instead of deleting the pod, so --force (a deletion with grace 0) does not apply; drop --force (or drop --crash).',
    );
  }
  if (crash && flags.grace !== undefined) {
    throw new UsageError(
      `--crash makes the server process exit instead of deleting the pod, so --grace ${flags.grace} (a deletion's grace period) does not apply; drop --grace (or drop --crash).`,
    );
  }
  // What a crash costs shows only in the requests it fails.
  if (crash && !underLoad) {
    throw new UsageError(
      '--crash shows what a crashed process does to requests, so it needs --under-load; add --under-load.',
    );
  }
  if (force && flags.grace !== undefined) {
    throw new UsageError(
      `--force deletes with grace 0, which --grace ${flags.grace} contradicts; drop --grace (or drop --force).`,
    );
  }
  // What a forced deletion costs shows only in the requests it could fail.
  if (force && !underLoad) {
    throw new UsageError(
      '--force shows what a forced deletion does to requests, so it needs --under-load; add --under-load (or use --grace 1 for a quick deletion).',
    );
  }
  // 0 through the API is a force delete: the pod object goes while its container may still
  // run. kubectl turns 0 into 1 unless --force; so does this, keeping a real termination.
  const graceSeconds = force ? 0 : flags.grace === undefined ? undefined : Math.max(1, flags.grace);
  return {
    ...(flags.pod !== undefined ? { pod: flags.pod } : {}),
    ...(flags.seed !== undefined ? { seed: flags.seed } : {}),
    ...(graceSeconds !== undefined ? { graceSeconds } : {}),
    timeoutSeconds: flags.timeout,
    json: flags.json === true,
    underLoad,
    force,
    crash,
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
