import type { RequestRecord } from './curl-log.js';

/**
 * `kill-pod --under-load`: a steady load through the Service while a replica is killed,
 * counted per second. Pure: the records come from the load's log (read with timestamps),
 * the moments from the kill's timeline.
 */

/** The load: a new connection per request, at a modest pace, long enough for before and after. */
export const LOAD_RATE_PER_SECOND = 50;
export const LOAD_SECONDS = 25;
export const LOAD_COUNT = LOAD_RATE_PER_SECOND * LOAD_SECONDS;
/** Seconds of load, from its first answer, before the kill: the rows before second 0. */
export const LOAD_BEFORE_SECONDS = 5;

export interface LoadSecond {
  /** Seconds from the kill: second -1 holds the requests started in the second before it. */
  second: number;
  requests: number;
  failed: number;
  /** Requests each pod answered, by pod name. */
  pods: Record<string, number>;
}

export interface LoadReport {
  /** Requests curl reported. */
  requests: number;
  /** No response, or a response that was not 2xx. */
  failed: number;
  seconds: LoadSecond[];
  /** Seconds from the kill to the start of the last request the killed pod answered; null if none. */
  victimLastAnswer: number | null;
  /** Requests the killed pod answered that started after the kill. */
  victimAnswersAfterKill: number;
  /** When the failed requests started, in seconds from the kill; null when none failed. */
  failedBetween: { first: number; last: number } | null;
  /** Pods in the order their columns are drawn: by first answer, then by name. */
  pods: string[];
}

export function isFailure(record: RequestRecord): boolean {
  return record.status < 200 || record.status > 299;
}

/** When the request started, in ms since the epoch: its line's time less its duration. */
export function startedAt(record: RequestRecord): number | undefined {
  return record.loggedAt === undefined ? undefined : record.loggedAt - record.seconds * 1000;
}

const round2 = (seconds: number) => Math.round(seconds * 100) / 100;
const round3 = (seconds: number) => Math.round(seconds * 1000) / 1000;

/**
 * Counts per second from the kill, every second from the first request to the last (a
 * second in which none started too). Records without a time are left out.
 */
export function buildLoadReport(
  records: readonly RequestRecord[],
  killedAtMs: number,
  victim: string,
): LoadReport {
  const rows = new Map<number, LoadSecond>();
  const firstSeen = new Map<string, number>();
  let failed = 0;
  let victimLastAnswer: number | null = null;
  let victimAnswersAfterKill = 0;
  let firstFailure = Infinity;
  let lastFailure = -Infinity;
  for (const record of records) {
    const start = startedAt(record);
    if (start === undefined) continue;
    const fromKill = (start - killedAtMs) / 1000;
    const second = Math.floor(fromKill);
    let row = rows.get(second);
    if (!row) {
      row = { second, requests: 0, failed: 0, pods: {} };
      rows.set(second, row);
    }
    row.requests += 1;
    if (isFailure(record)) {
      row.failed += 1;
      failed += 1;
      firstFailure = Math.min(firstFailure, fromKill);
      lastFailure = Math.max(lastFailure, fromKill);
    }
    const pod = record.pod;
    if (pod === undefined || record.status === 0) continue;
    row.pods[pod] = (row.pods[pod] ?? 0) + 1;
    firstSeen.set(pod, Math.min(firstSeen.get(pod) ?? start, start));
    if (pod === victim) {
      victimLastAnswer = Math.max(victimLastAnswer ?? fromKill, fromKill);
      if (fromKill >= 0) victimAnswersAfterKill += 1;
    }
  }
  const seconds: LoadSecond[] = [];
  const keys = [...rows.keys()];
  if (keys.length > 0) {
    for (let s = Math.min(...keys); s <= Math.max(...keys); s += 1) {
      seconds.push(rows.get(s) ?? { second: s, requests: 0, failed: 0, pods: {} });
    }
  }
  // The pods that answered before the kill by name, then those that came later (the
  // replacement) in the order they first answered.
  const early = (at: number) => (at < killedAtMs ? killedAtMs : at);
  const pods = [...firstSeen.entries()]
    .sort(([a, at], [b, bt]) => early(at) - early(bt) || a.localeCompare(b))
    .map(([pod]) => pod);
  return {
    requests: seconds.reduce((sum, row) => sum + row.requests, 0),
    failed,
    seconds,
    victimLastAnswer: victimLastAnswer === null ? null : round3(victimLastAnswer),
    victimAnswersAfterKill,
    failedBetween: failed === 0 ? null : { first: round2(firstFailure), last: round2(lastFailure) },
    pods,
  };
}

/** How the replica is killed: deleted gracefully, deleted with grace 0, or its process crashed. */
export type KillMode = 'graceful' | 'force' | 'crash';

export function killMode(plan: { force: boolean; crash: boolean }): KillMode {
  return plan.crash ? 'crash' : plan.force ? 'force' : 'graceful';
}

/**
 * A graceful deletion is meant to lose nothing, so requests lost in one are the run's failure
 * (exit 12), said in one line; a forced deletion's or a crash's losses are the lesson, not a
 * failure.
 */
export function gracefulLoss(
  report: Pick<LoadReport, 'failed' | 'requests'>,
  mode: KillMode,
  victim: string,
): { message: string; hint: string } | undefined {
  if (mode !== 'graceful' || report.failed === 0) return undefined;
  return {
    message: `${report.failed} of ${report.requests} requests failed while ${victim} was deleted gracefully.`,
    hint: "Check the Deployment's readinessProbe and preStop hook (`kubectl get deploy -o yaml -n <namespace>`).",
  };
}

/**
 * When the process crashed, as well as this side can tell: the server's own time in its
 * answer (it exits right after), kept between the request leaving and the answer coming back,
 * which a tunnel through the API server makes tens of milliseconds apart.
 */
export function crashMoment(sentAt: number, answeredAt: number, body: string): number {
  let said: number | undefined;
  try {
    const stamp = (JSON.parse(body) as { timestamp?: unknown }).timestamp;
    if (typeof stamp === 'string') said = Date.parse(stamp);
  } catch {
    // No time in the answer: the answer's arrival stands in.
  }
  if (said === undefined || Number.isNaN(said)) return answeredAt;
  return Math.min(answeredAt, Math.max(sentAt, said));
}
