import { UsageError } from '../errors.js';
import { RANGES, VIAS, parseInteger, type BlastVia, type IntegerRange } from '../core/flags.js';
import { planBlast, validatePodName } from '../core/blast-plan.js';
import { PALETTE_SIZE } from '../core/colours.js';
import { MIN_REPLICAS } from '../core/names.js';

/**
 * The page's requests, checked as the CLI checks its flags (the same ranges, the same
 * words, each naming the flag it stands for) before anything touches the cluster.
 */

export interface BlastRequest {
  count: number;
  via: BlastVia;
  parallel: number;
  keepAlive: boolean;
}

export interface KillRequest {
  pod: string;
  underLoad: boolean;
  /** Crash the pod's process instead of deleting the pod; only under load, as `--crash`. */
  crash: boolean;
}

function record(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new UsageError('The request body is not a JSON object.');
  return body as Record<string, unknown>;
}

function integer(flag: string, value: unknown, range: IntegerRange, fallback: number): number {
  if (value === undefined) return fallback;
  const raw =
    typeof value === 'number' || typeof value === 'string' ? String(value) : JSON.stringify(value);
  return parseInteger(flag, raw, range);
}

export function blastRequest(body: unknown): BlastRequest {
  const b = record(body);
  const via = b.via ?? 'service';
  if (typeof via !== 'string' || !(VIAS as readonly string[]).includes(via))
    throw new UsageError(`--via ${JSON.stringify(via)} is not one of ${VIAS.join(', ')}.`);
  const request: BlastRequest = {
    count: integer('--count', b.count, RANGES.count, 200),
    via: via as BlastVia,
    parallel: integer('--parallel', b.parallel, RANGES.parallel, 1),
    keepAlive: b.keepAlive === true,
  };
  // How the flags combine, as `blast` checks it: --keep-alive with --parallel, and so on.
  planBlast({ ...request, timeout: 1 });
  return request;
}

export function killRequest(body: unknown): KillRequest {
  const b = record(body);
  if (typeof b.pod !== 'string') throw new UsageError('--pod is missing; name the pod to kill.');
  const underLoad = b.underLoad === true;
  const crash = b.crash === true;
  if (crash && !underLoad)
    throw new UsageError(
      '--crash shows what a crashed process does to requests, so it needs --under-load; add --under-load.',
    );
  return { pod: validatePodName(b.pod), underLoad, crash };
}

/** Up to one pod per colour, so every card and bar keeps a colour of its own. */
export const SCALE_RANGE: IntegerRange = {
  min: MIN_REPLICAS,
  max: PALETTE_SIZE,
  example: 5,
  why: 'the page has ten colours, one per pod',
};

export function scaleRequest(body: unknown): number {
  const b = record(body);
  if (b.replicas === undefined)
    throw new UsageError('--replicas is missing; give an integer from 1 to 10.');
  return integer('--replicas', b.replicas, SCALE_RANGE, 0);
}
