import type { KubeObject } from '../store.js';
import type { ResourceType } from '../resources.js';

/**
 * Server-side printing (`Accept: application/json;as=Table;g=meta.k8s.io;v=v1`): kubectl
 * has no printers of its own for built-in kinds and shows only NAME and AGE without these.
 * Columns and cells follow the real API server's printers.
 */

interface Column {
  name: string;
  type: 'string' | 'integer' | 'date';
  format: string;
  description: string;
  priority: number;
}

type Cell = string | number;
/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-return --
   printers read the loosely typed JSON of every kind, as the real printers read any object */
type Printer = (o: any, now: number) => Cell[];

function col(name: string, priority = 0, type: Column['type'] = 'string', format = ''): Column {
  return { name, type, format: name === 'Name' ? 'name' : format, description: name, priority };
}

export function age(timestamp: string | undefined, now: number): string {
  if (!timestamp) return '<unknown>';
  const seconds = Math.max(0, Math.floor((now - Date.parse(timestamp)) / 1000));
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return `${minutes}m${seconds % 60 === 0 ? '' : `${seconds % 60}s`}`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return `${hours}h${minutes % 60 === 0 ? '' : `${minutes % 60}m`}`;
  if (hours < 48) return `${hours}h`;
  return `${Math.floor(hours / 24)}d`;
}

function containerNames(spec: any): string {
  return ((spec?.containers ?? []) as any[]).map((c) => String(c.name)).join(',');
}

function images(spec: any): string {
  return ((spec?.containers ?? []) as any[]).map((c) => String(c.image)).join(',');
}

function selectorText(selector: any): string {
  if (!selector) return '<none>';
  const parts = Object.entries((selector.matchLabels ?? selector) as Record<string, string>).map(
    ([k, v]) => `${k}=${v}`,
  );
  for (const e of (selector.matchExpressions ?? []) as any[])
    parts.push(
      `${e.key} ${String(e.operator).toLowerCase()} (${((e.values ?? []) as string[]).join(',')})`,
    );
  return parts.length ? parts.join(',') : '<none>';
}

function podStatusReason(pod: any): string {
  let reason: string = pod.status?.reason ?? pod.status?.phase ?? 'Unknown';
  for (const c of (pod.status?.initContainerStatuses ?? []) as any[]) {
    if (c.state?.terminated && c.state.terminated.exitCode !== 0)
      return `Init:${c.state.terminated.reason ?? 'Error'}`;
    if (c.state?.waiting?.reason && c.state.waiting.reason !== 'PodInitializing')
      return `Init:${c.state.waiting.reason}`;
  }
  let hasRunning = false;
  const statuses = (pod.status?.containerStatuses ?? []) as any[];
  for (let i = statuses.length - 1; i >= 0; i -= 1) {
    const c = statuses[i];
    if (c.state?.waiting?.reason) reason = c.state.waiting.reason;
    else if (c.state?.terminated?.reason) reason = c.state.terminated.reason;
    else if (c.state?.terminated)
      reason = c.state.terminated.signal
        ? `Signal:${c.state.terminated.signal}`
        : `ExitCode:${c.state.terminated.exitCode}`;
    else if (c.ready && c.state?.running) hasRunning = true;
  }
  if (reason === 'Completed' && hasRunning) reason = 'Running';
  if (pod.metadata.deletionTimestamp) reason = 'Terminating';
  return reason;
}

function podRestarts(pod: any, now: number): string {
  let restarts = 0;
  let last: string | undefined;
  for (const c of (pod.status?.containerStatuses ?? []) as any[]) {
    restarts += Number(c.restartCount ?? 0);
    const finished = c.lastState?.terminated?.finishedAt as string | undefined;
    if (finished && (!last || finished > last)) last = finished;
  }
  return restarts > 0 && last ? `${restarts} (${age(last, now)} ago)` : String(restarts);
}

function servicePorts(svc: any): string {
  const ports = (svc.spec?.ports ?? []) as any[];
  if (ports.length === 0) return '<none>';
  return ports.map((p) => `${p.port}/${p.protocol ?? 'TCP'}`).join(',');
}

function endpointsText(ep: any): string {
  const out: string[] = [];
  let total = 0;
  for (const subset of (ep.subsets ?? []) as any[]) {
    for (const port of (subset.ports ?? [{ port: undefined }]) as any[]) {
      for (const a of (subset.addresses ?? []) as any[]) {
        total += 1;
        if (out.length < 3) out.push(port.port === undefined ? a.ip : `${a.ip}:${port.port}`);
      }
    }
  }
  if (total === 0) return '<none>';
  return total > 3 ? `${out.join(',')} + ${total - 3} more...` : out.join(',');
}

function jobStatus(job: any): string {
  const conds = (job.status?.conditions ?? []) as any[];
  const has = (t: string) => conds.some((c) => c.type === t && c.status === 'True');
  if (has('Complete')) return 'Complete';
  if (has('Failed')) return 'Failed';
  if (job.metadata.deletionTimestamp) return 'Terminating';
  if (has('Suspended')) return 'Suspended';
  if (has('FailureTarget')) return 'FailureTarget';
  if (has('SuccessCriteriaMet')) return 'SuccessCriteriaMet';
  return 'Running';
}

function jobDuration(job: any, now: number): string {
  const start = job.status?.startTime as string | undefined;
  if (!start) return '';
  const end = (job.status?.completionTime as string | undefined) ?? new Date(now).toISOString();
  return age(start, Date.parse(end));
}

const TABLES: Record<string, { columns: Column[]; cells: Printer }> = {
  pods: {
    columns: [
      col('Name'),
      col('Ready'),
      col('Status'),
      col('Restarts', 0, 'string'),
      col('Age'),
      col('IP', 1),
      col('Node', 1),
      col('Nominated Node', 1),
      col('Readiness Gates', 1),
    ],
    cells: (p, now) => {
      const statuses = (p.status?.containerStatuses ?? []) as any[];
      const total = (p.spec?.containers ?? []).length as number;
      const ready = statuses.filter((c) => c.ready).length;
      return [
        p.metadata.name,
        `${ready}/${total}`,
        podStatusReason(p),
        podRestarts(p, now),
        age(p.metadata.creationTimestamp, now),
        p.status?.podIP ?? '<none>',
        p.spec?.nodeName ?? '<none>',
        p.status?.nominatedNodeName ?? '<none>',
        '<none>',
      ];
    },
  },
  deployments: {
    columns: [
      col('Name'),
      col('Ready'),
      col('Up-to-date', 0, 'integer'),
      col('Available', 0, 'integer'),
      col('Age'),
      col('Containers', 1),
      col('Images', 1),
      col('Selector', 1),
    ],
    cells: (d, now) => [
      d.metadata.name,
      `${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 0}`,
      d.status?.updatedReplicas ?? 0,
      d.status?.availableReplicas ?? 0,
      age(d.metadata.creationTimestamp, now),
      containerNames(d.spec?.template?.spec),
      images(d.spec?.template?.spec),
      selectorText(d.spec?.selector),
    ],
  },
  replicasets: {
    columns: [
      col('Name'),
      col('Desired', 0, 'integer'),
      col('Current', 0, 'integer'),
      col('Ready', 0, 'integer'),
      col('Age'),
      col('Containers', 1),
      col('Images', 1),
      col('Selector', 1),
    ],
    cells: (r, now) => [
      r.metadata.name,
      r.spec?.replicas ?? 0,
      r.status?.replicas ?? 0,
      r.status?.readyReplicas ?? 0,
      age(r.metadata.creationTimestamp, now),
      containerNames(r.spec?.template?.spec),
      images(r.spec?.template?.spec),
      selectorText(r.spec?.selector),
    ],
  },
  services: {
    columns: [
      col('Name'),
      col('Type'),
      col('Cluster-IP'),
      col('External-IP'),
      col('Port(s)'),
      col('Age'),
      col('Selector', 1),
    ],
    cells: (s, now) => [
      s.metadata.name,
      s.spec?.type ?? 'ClusterIP',
      s.spec?.clusterIP ?? '<none>',
      '<none>',
      servicePorts(s),
      age(s.metadata.creationTimestamp, now),
      selectorText(s.spec?.selector),
    ],
  },
  endpoints: {
    columns: [col('Name'), col('Endpoints'), col('Age')],
    cells: (e, now) => [e.metadata.name, endpointsText(e), age(e.metadata.creationTimestamp, now)],
  },
  events: {
    columns: [
      col('Last Seen'),
      col('Type'),
      col('Reason'),
      col('Object'),
      col('Subobject', 1),
      col('Source', 1),
      col('Message'),
      col('First Seen', 1),
      col('Count', 1, 'integer'),
      col('Name', 1),
    ],
    cells: (e, now) => {
      const last = e.lastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp;
      const first = e.firstTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp;
      const obj = `${String(e.involvedObject?.kind ?? '').toLowerCase()}/${e.involvedObject?.name ?? ''}`;
      const source = [e.source?.component, e.source?.host].filter(Boolean).join(', ');
      return [
        age(last, now),
        e.type ?? '',
        e.reason ?? '',
        obj,
        e.involvedObject?.fieldPath ?? '',
        source,
        e.message ?? '',
        age(first, now),
        e.count ?? 1,
        e.metadata.name,
      ];
    },
  },
  jobs: {
    columns: [
      col('Name'),
      col('Status'),
      col('Completions'),
      col('Duration'),
      col('Age'),
      col('Containers', 1),
      col('Images', 1),
      col('Selector', 1),
    ],
    cells: (j, now) => [
      j.metadata.name,
      jobStatus(j),
      `${j.status?.succeeded ?? 0}/${j.spec?.completions ?? 1}`,
      jobDuration(j, now),
      age(j.metadata.creationTimestamp, now),
      containerNames(j.spec?.template?.spec),
      images(j.spec?.template?.spec),
      selectorText(j.spec?.selector),
    ],
  },
  namespaces: {
    columns: [col('Name'), col('Status'), col('Age')],
    cells: (n, now) => [
      n.metadata.name,
      n.status?.phase ?? 'Active',
      age(n.metadata.creationTimestamp, now),
    ],
  },
  nodes: {
    columns: [
      col('Name'),
      col('Status'),
      col('Roles'),
      col('Age'),
      col('Version'),
      col('Internal-IP', 1),
      col('External-IP', 1),
      col('OS-Image', 1),
      col('Kernel-Version', 1),
      col('Container-Runtime', 1),
    ],
    cells: (n, now) => {
      const ready = ((n.status?.conditions ?? []) as any[]).find((c) => c.type === 'Ready');
      const roles = Object.keys((n.metadata.labels ?? {}) as Record<string, string>)
        .filter((k) => k.startsWith('node-role.kubernetes.io/'))
        .map((k) => k.slice('node-role.kubernetes.io/'.length));
      const ip =
        ((n.status?.addresses ?? []) as any[]).find((a) => a.type === 'InternalIP')?.address ??
        '<none>';
      const info = n.status?.nodeInfo ?? {};
      return [
        n.metadata.name,
        ready?.status === 'True' ? 'Ready' : 'NotReady',
        roles.length ? roles.join(',') : '<none>',
        age(n.metadata.creationTimestamp, now),
        info.kubeletVersion ?? '',
        ip,
        '<none>',
        info.osImage ?? '<unknown>',
        info.kernelVersion ?? '<unknown>',
        info.containerRuntimeVersion ?? '<unknown>',
      ];
    },
  },
  poddisruptionbudgets: {
    columns: [
      col('Name'),
      col('Min Available'),
      col('Max Unavailable'),
      col('Allowed Disruptions', 0, 'integer'),
      col('Age'),
    ],
    cells: (p, now) => [
      p.metadata.name,
      String(p.spec?.minAvailable ?? 'N/A'),
      String(p.spec?.maxUnavailable ?? 'N/A'),
      p.status?.disruptionsAllowed ?? 0,
      age(p.metadata.creationTimestamp, now),
    ],
  },
};
/* eslint-enable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-return */

/** Whether the Accept header asks for a meta.k8s.io Table first. */
export function wantsTable(accept: string | undefined): boolean {
  if (!accept) return false;
  const first = accept.split(',')[0] ?? '';
  return /as=Table/.test(first) && /g=meta\.k8s\.io/.test(first);
}

export type IncludeObject = 'None' | 'Metadata' | 'Object';

function rowObject(o: KubeObject, include: IncludeObject): unknown {
  if (include === 'None') return undefined;
  if (include === 'Object') return o;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata };
}

export function toTable(
  type: ResourceType,
  items: KubeObject[],
  meta: { resourceVersion: string; continue?: string },
  include: IncludeObject,
  now: number,
): Record<string, unknown> {
  const printer = TABLES[type.plural] ?? {
    columns: [col('Name'), col('Age')],
    cells: (o: KubeObject, n: number) => [o.metadata.name, age(o.metadata.creationTimestamp, n)],
  };
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: meta,
    columnDefinitions: printer.columns,
    rows: items.map((o) => {
      const row: Record<string, unknown> = { cells: printer.cells(o, now) };
      const obj = rowObject(o, include);
      if (obj !== undefined) row.object = obj;
      return row;
    }),
  };
}
