import { replicaId, type RequestRecord } from './curl-log.js';

export interface PodInfo {
  name: string;
  node: string;
}

export interface HistogramRow {
  pod: string;
  replicaId: string;
  node: string;
  count: number;
  /** Share of the answered requests, 0..100. */
  percent: number;
  /** Whether the pod was a ready endpoint when the blast started. */
  ready: boolean;
}

export interface Histogram {
  rows: HistogramRow[];
  /** Requests sent. */
  total: number;
  /** Requests answered by a pod that named itself (any status). */
  answered: number;
  /** Non-2xx responses plus requests with no response. */
  errors: number;
  /** Requests with no response at all (curl's `000`). */
  failedConnections: number;
  /** Responses that carried no X-Pod-Name header. */
  unnamed: number;
  /** Non-2xx responses, by status. */
  statuses: Array<{ status: number; count: number }>;
}

export const UNKNOWN_NODE = '?';

/**
 * Requests per pod. Every ready pod gets a row even with no hits, so a learner sees the pod
 * the Service skipped; a pod that answered but was not in the ready list (it became ready
 * or went away during the blast) gets a row too.
 */
export function buildHistogram(
  records: readonly RequestRecord[],
  readyPods: readonly PodInfo[],
  knownPods: readonly PodInfo[] = [],
  sent = records.length,
): Histogram {
  const nodes = new Map<string, string>();
  for (const pod of [...knownPods, ...readyPods]) nodes.set(pod.name, pod.node);
  const ready = new Set(readyPods.map((p) => p.name));
  const counts = new Map<string, number>();
  for (const pod of readyPods) counts.set(pod.name, 0);

  let failedConnections = 0;
  let unnamed = 0;
  let non2xx = 0;
  const statuses = new Map<number, number>();
  for (const record of records) {
    if (record.status === 0) {
      failedConnections += 1;
      continue;
    }
    if (record.status < 200 || record.status > 299) {
      non2xx += 1;
      statuses.set(record.status, (statuses.get(record.status) ?? 0) + 1);
    }
    if (record.pod === undefined) {
      unnamed += 1;
      continue;
    }
    counts.set(record.pod, (counts.get(record.pod) ?? 0) + 1);
  }
  const answered = [...counts.values()].reduce((a, b) => a + b, 0);
  // Requests curl never reported (a deadline cut it short) are failures too.
  const missing = Math.max(0, sent - records.length);
  const rows = [...counts.entries()]
    .map(([pod, count]) => ({
      pod,
      replicaId: replicaId(pod),
      node: nodes.get(pod) ?? UNKNOWN_NODE,
      count,
      percent: answered === 0 ? 0 : (100 * count) / answered,
      ready: ready.has(pod),
    }))
    .sort((a, b) => a.pod.localeCompare(b.pod));
  return {
    rows,
    total: sent,
    answered,
    errors: non2xx + failedConnections + missing,
    failedConnections: failedConnections + missing,
    unnamed,
    statuses: [...statuses.entries()]
      .map(([status, count]) => ({ status, count }))
      .sort((a, b) => b.count - a.count),
  };
}

/** Pods that answered at least once. */
export function podsReached(histogram: Histogram): string[] {
  return histogram.rows.filter((r) => r.count > 0).map((r) => r.pod);
}
