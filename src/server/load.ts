import { setImmediate as yieldToEventLoop, setTimeout as sleep } from 'node:timers/promises';

export const LOAD_DEFAULT_MS = 1000;
export const LOAD_MAX_MS = 30_000;
/** Longest stretch the CPU burn holds the event loop, so probes and other requests still get in. */
const BURN_SLICE_MS = 10;

export interface LoadRequest {
  readonly ms: number;
  readonly cpu: boolean;
}

export type LoadQueryResult =
  | { readonly ok: true; readonly value: LoadRequest }
  | { readonly ok: false; readonly parameter: 'ms' | 'cpu'; readonly message: string };

function describe(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : JSON.stringify(value);
}

/** Validates `?ms=` and `?cpu=` from an already parsed query; repeated parameters are rejected. */
export function parseLoadQuery(query: Record<string, unknown>): LoadQueryResult {
  const rawMs = query.ms;
  let ms = LOAD_DEFAULT_MS;
  if (rawMs !== undefined) {
    if (typeof rawMs !== 'string' || !/^\d{1,5}$/.test(rawMs) || Number(rawMs) > LOAD_MAX_MS) {
      return {
        ok: false,
        parameter: 'ms',
        message: `Invalid query parameter 'ms': expected a whole number of milliseconds from 0 to ${LOAD_MAX_MS}, got ${describe(rawMs)}`,
      };
    }
    ms = Number(rawMs);
  }
  const rawCpu = query.cpu;
  let cpu = false;
  if (rawCpu !== undefined) {
    if (rawCpu === '1' || rawCpu === 'true') cpu = true;
    else if (rawCpu === '0' || rawCpu === 'false') cpu = false;
    else {
      return {
        ok: false,
        parameter: 'cpu',
        message: `Invalid query parameter 'cpu': expected 1 or 0, got ${describe(rawCpu)}`,
      };
    }
  }
  return { ok: true, value: { ms, cpu } };
}

/**
 * Spends `ms` of wall time. Waiting uses a timer, so the replica keeps answering others;
 * burning spins the CPU in short slices for the same reason. Resolves with the time
 * actually spent; an abort ends it early (client gone, or shutdown out of time).
 */
export async function simulateWork(
  request: LoadRequest,
  signal: AbortSignal,
  clock: () => number = () => performance.now(),
): Promise<number> {
  const started = clock();
  if (request.ms === 0 || signal.aborted) return 0;
  if (!request.cpu) {
    try {
      await sleep(request.ms, undefined, { signal });
    } catch (error) {
      if (!signal.aborted) throw error;
    }
    return clock() - started;
  }
  const deadline = started + request.ms;
  let now = started;
  while (now < deadline && !signal.aborted) {
    const sliceEnd = Math.min(deadline, now + BURN_SLICE_MS);
    while (now < sliceEnd) now = clock();
    if (now < deadline) await yieldToEventLoop();
    now = clock();
  }
  return now - started;
}
