import { fitTable, pick } from './table.js';
import { replicaId } from '../core/curl-log.js';

/** The pod table `up` ends with. Pure: pod objects and a clock in, rows and text out. */

export interface PodLike {
  metadata?: {
    name?: string;
    creationTimestamp?: string | Date;
    deletionTimestamp?: string | Date;
  };
  spec?: { nodeName?: string };
  status?: {
    podIP?: string;
    phase?: string;
    conditions?: { type?: string; status?: string }[];
    containerStatuses?: { ready?: boolean; restartCount?: number }[];
  };
}

export interface PodRow {
  name: string;
  replicaId: string;
  podIP: string;
  node: string;
  /** `1/1`: ready containers over all containers, like `kubectl get pods`. */
  ready: string;
  restarts: number;
  age: string;
}

export const POD_TABLE_HEADERS = ['NAME', 'REPLICA', 'POD IP', 'NODE', 'READY', 'RESTARTS', 'AGE'];

/** kubectl's age style: 45s, 3m12s under 10 minutes, 2h5m, 4d. */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  return `${Math.floor(h / 24)}d`;
}

function toMs(value: string | Date | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = value instanceof Date ? value.getTime() : Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

export function podRows(pods: readonly PodLike[], now: number): PodRow[] {
  return pods
    .filter((p) => p.metadata?.deletionTimestamp === undefined)
    .map((pod) => {
      const name = pod.metadata?.name ?? '?';
      const statuses = pod.status?.containerStatuses ?? [];
      const readyCount = statuses.filter((c) => c.ready === true).length;
      const created = toMs(pod.metadata?.creationTimestamp);
      return {
        name,
        replicaId: replicaId(name),
        podIP: pod.status?.podIP ?? '<none>',
        node: pod.spec?.nodeName ?? '<none>',
        ready: `${readyCount}/${Math.max(statuses.length, 1)}`,
        restarts: statuses.reduce((sum, c) => sum + (c.restartCount ?? 0), 0),
        age: created === undefined ? '?' : formatAge(now - created),
      };
    })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function cells(row: PodRow): string[] {
  return [row.name, row.replicaId, row.podIP, row.node, row.ready, String(row.restarts), row.age];
}

/**
 * A boxed table for a terminal; plain aligned columns (like kubectl) for logs and pipes.
 * On a narrow terminal REPLICA goes first (the pod name ends with it), then the box, then
 * NODE and POD IP; narrower than a pod name, REPLICA stands in for NAME.
 */
export function renderPodTable(
  rows: readonly PodRow[],
  options: { boxed: boolean; width?: number },
): string {
  const all = [0, 1, 2, 3, 4, 5, 6];
  const noReplica = [0, 2, 3, 4, 5, 6];
  const steps: [number[], boolean][] = [
    [all, options.boxed],
    [noReplica, options.boxed],
    [noReplica, false],
    [[0, 2, 4, 5, 6], false],
    [[0, 4, 5, 6], false],
    // Narrower than a pod name: the replica id stands for the pod.
    [[1, 3, 4, 5, 6], false],
    [[1, 4, 5, 6], false],
  ];
  const variants = steps.map(([keep, boxed]) => ({
    headers: pick(POD_TABLE_HEADERS, keep),
    rows: rows.map((r) => pick(cells(r), keep)),
    options: { boxed },
  }));
  return fitTable(variants, options.width).join('\n');
}
