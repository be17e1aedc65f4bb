import { UsageError } from '../errors.js';
import { DEFAULT_REPLICAS, MAX_REPLICAS, MIN_REPLICAS } from './names.js';

/**
 * Every flag's type, range and default, in one place. program.ts hands these to commander
 * (argParser, choices, default), so a command receives its flags parsed and typed; what is
 * left to the commands is how flags combine (core/validate.ts, core/blast-plan.ts).
 */

export interface IntegerRange {
  min: number;
  max: number;
  /** Shown in the error as the fix: "(e.g. --count 200)". */
  example: number;
  /** Why the maximum is what it is, when that is not obvious. */
  why?: string;
}

/** An hour: longer than any rollout, blast or recovery needs; more is a typo (milliseconds?). */
export const MAX_TIMEOUT_SECONDS = 3600;
/**
 * Every request of a blast opens a new TCP connection from the one client pod, and each
 * closed one holds a local port for a minute (TIME_WAIT) out of about 28,000 (Linux's
 * 32768-60999): 20,000 stays inside that budget, as measured; 100,000 lost 60% of its
 * requests to it.
 */
export const MAX_COUNT = 20_000;
export const MAX_PARALLEL = 50;

export const RANGES = {
  replicas: { min: MIN_REPLICAS, max: MAX_REPLICAS, example: DEFAULT_REPLICAS },
  count: {
    min: 1,
    max: MAX_COUNT,
    example: 200,
    why: 'one client pod opens a new connection per request, and a closed one keeps its local port for a minute',
  },
  parallel: { min: 1, max: MAX_PARALLEL, example: 5 },
  timeout: { min: 1, max: MAX_TIMEOUT_SECONDS, example: 120 },
  grace: { min: 0, max: 3600, example: 30 },
  nodes: { min: 1, max: 10, example: 3 },
  port: { min: 1, max: 65535, example: 8080 },
} as const satisfies Record<string, IntegerRange>;

export const DEFAULTS = {
  replicas: DEFAULT_REPLICAS,
  upTimeout: 180,
  downTimeout: 120,
  count: 20,
  parallel: 1,
  via: 'both',
  blastTimeout: 120,
  killTimeout: 120,
  nodes: 3,
} as const;

export const AFFINITIES = ['ClientIP', 'None'] as const;
export type Affinity = (typeof AFFINITIES)[number];

export const VIAS = ['service', 'port-forward', 'both'] as const;
export type BlastVia = (typeof VIAS)[number];

/** A whole number within `range`, or a UsageError naming the flag and a value that works. */
export function parseInteger(flag: string, raw: string, range: IntegerRange): number {
  const { min, max, example } = range;
  const text = raw.trim();
  if (!/^\d+$/.test(text)) {
    throw new UsageError(
      `${flag} ${JSON.stringify(raw)} is not a whole number; give an integer from ${min} to ${max} (e.g. ${flag} ${example}).`,
    );
  }
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(
      `${flag} ${text} is out of range; give an integer from ${min} to ${max} (e.g. ${flag} ${example})${range.why && value > max ? `: ${range.why}` : ''}.`,
    );
  }
  return value;
}

// The flags each command receives, as commander hands them over after parsing.

export interface TargetFlags {
  sim?: boolean;
  cluster?: string;
  context?: string;
  namespace?: string;
  /** Consent: to delete without asking, and to use a context that is not kind or embedded. */
  yes?: boolean;
}

export interface UpFlags extends TargetFlags {
  replicas: number;
  timeout: number;
  createCluster?: boolean;
  /** false with --no-build. */
  build?: boolean;
  baseImage?: string;
  /** HOST[:PORT]/PATH: push the images there and deploy them from there, instead of `kind load`. */
  registry?: string;
  dryRun?: boolean;
  json?: boolean;
}

export interface DownFlags extends TargetFlags {
  timeout: number;
  deleteCluster?: boolean;
  keepCluster?: boolean;
  dryRun?: boolean;
  json?: boolean;
}

export interface BlastFlags extends TargetFlags {
  count: number;
  via: BlastVia;
  parallel: number;
  keepAlive?: boolean;
  /** The Service's sessionAffinity for this blast only. */
  affinity?: Affinity;
  timeout: number;
  json?: boolean;
}

export interface KillPodFlags extends TargetFlags {
  pod?: string;
  seed?: string;
  grace?: number;
  timeout: number;
  json?: boolean;
  /** Keep a steady load through the Service during the kill, and count what failed. */
  underLoad?: boolean;
  /** Delete with grace 0, as `kubectl delete --force --grace-period=0` does. */
  force?: boolean;
  /** Make the server process crash (through a port-forward) instead of deleting the pod. */
  crash?: boolean;
}

export interface TourFlags {
  keep?: boolean;
  /** Wait for Enter before each step; unset means: on a terminal. */
  step?: boolean;
  sim?: boolean;
  baseImage?: string;
}

export interface SimStartFlags {
  nodes: number;
}

export interface LogsFlags extends TargetFlags {
  follow?: boolean;
  /** Seconds back from now, parsed from `--since 5m`. */
  since?: number;
}

export interface DashboardFlags extends TargetFlags {
  /** The local port to serve on; a free one when not given. */
  port?: number;
  /** Open the page in the default browser. */
  open?: boolean;
}

const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600 };

/** `--since 90s`, `5m`, `2h`: seconds, at least 1, at most 7 days. */
export function parseSince(raw: string): number {
  const match = /^(\d+)([smh])$/.exec(raw.trim());
  const seconds = match ? Number(match[1]) * (DURATION_UNITS[match[2] ?? 's'] ?? 1) : NaN;
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 7 * 24 * 3600) {
    throw new UsageError(
      `--since ${JSON.stringify(raw)} is not a duration from 1s to 168h; give a number with s, m or h (e.g. --since 5m).`,
    );
  }
  return seconds;
}
