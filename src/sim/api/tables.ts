import type { IDeployment, IReplicaSet } from 'kubernetes-models/apps/v1';
import type { IJob } from 'kubernetes-models/batch/v1';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1';
import type { IEndpointSlice } from 'kubernetes-models/discovery.k8s.io/v1';
import type {
  IEndpoints,
  IEvent,
  INamespace,
  INode,
  IPod,
  IPodSpec,
  IService,
} from 'kubernetes-models/v1';
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

/** A served object of a kind as kubernetes-models types it, with the metadata we always fill. */
type Served<T> = Omit<T, 'metadata'> & { metadata: KubeObject['metadata'] };

interface Printer {
  columns: Column[];
  cells: (o: KubeObject, now: number) => Cell[];
}

/** A printer for kind `T`: the store keeps every kind as plain JSON, read here with T's shape. */
function printer<T>(columns: Column[], cells: (o: Served<T>, now: number) => Cell[]): Printer {
  return { columns, cells: (o, now) => cells(o as unknown as Served<T>, now) };
}

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

function containerNames(spec: IPodSpec | undefined): string {
  return (spec?.containers ?? []).map((c) => String(c.name)).join(',');
}

function images(spec: IPodSpec | undefined): string {
  return (spec?.containers ?? []).map((c) => String(c.image)).join(',');
}

type LabelSelector = NonNullable<NonNullable<IDeployment['spec']>['selector']>;

/** A label selector, or a Service's plain label map. */
function selectorText(selector: LabelSelector | Record<string, string> | undefined): string {
  if (!selector) return '<none>';
  const structured = selector as LabelSelector;
  const parts = Object.entries((structured.matchLabels ?? selector) as Record<string, string>).map(
    ([k, v]) => `${k}=${v}`,
  );
  for (const e of structured.matchExpressions ?? [])
    parts.push(`${e.key} ${e.operator.toLowerCase()} (${(e.values ?? []).join(',')})`);
  return parts.length ? parts.join(',') : '<none>';
}

/** The STATUS column, as kubectl's printer works it out from the container states. */
function podStatusReason(pod: Served<IPod>): string {
  let reason: string = pod.status?.reason ?? pod.status?.phase ?? 'Unknown';
  for (const c of pod.status?.initContainerStatuses ?? []) {
    if (c.state?.terminated && c.state.terminated.exitCode !== 0)
      return `Init:${c.state.terminated.reason ?? 'Error'}`;
    if (c.state?.waiting?.reason && c.state.waiting.reason !== 'PodInitializing')
      return `Init:${c.state.waiting.reason}`;
  }
  let hasRunning = false;
  const statuses = pod.status?.containerStatuses ?? [];
  for (const c of [...statuses].reverse()) {
    const terminated = c.state?.terminated;
    if (c.state?.waiting?.reason) reason = c.state.waiting.reason;
    else if (terminated?.reason) reason = terminated.reason;
    else if (terminated)
      reason = terminated.signal
        ? `Signal:${terminated.signal}`
        : `ExitCode:${terminated.exitCode}`;
    else if (c.ready && c.state?.running) hasRunning = true;
  }
  if (reason === 'Completed' && hasRunning) reason = 'Running';
  if (pod.metadata.deletionTimestamp) reason = 'Terminating';
  return reason;
}

function podRestarts(pod: Served<IPod>, now: number): string {
  let restarts = 0;
  let last: string | undefined;
  for (const c of pod.status?.containerStatuses ?? []) {
    restarts += Number(c.restartCount ?? 0);
    const finished = c.lastState?.terminated?.finishedAt;
    if (finished && (!last || finished > last)) last = finished;
  }
  return restarts > 0 && last ? `${restarts} (${age(last, now)} ago)` : String(restarts);
}

function servicePorts(svc: Served<IService>): string {
  const ports = svc.spec?.ports ?? [];
  if (ports.length === 0) return '<none>';
  return ports.map((p) => `${p.port}/${p.protocol ?? 'TCP'}`).join(',');
}

/** kubectl's EndpointSlice columns: the first three values, then how many more. */
function sliceText(values: string[], none: string): string {
  if (values.length === 0) return none;
  const shown = values.slice(0, 3).join(',');
  return values.length > 3 ? `${shown} + ${values.length - 3} more...` : shown;
}

function endpointsText(ep: Served<IEndpoints>): string {
  const out: string[] = [];
  let total = 0;
  for (const subset of ep.subsets ?? []) {
    const ports: { port?: number }[] = subset.ports ?? [{ port: undefined }];
    for (const port of ports) {
      for (const a of subset.addresses ?? []) {
        total += 1;
        if (out.length < 3) out.push(port.port === undefined ? a.ip : `${a.ip}:${port.port}`);
      }
    }
  }
  if (total === 0) return '<none>';
  return total > 3 ? `${out.join(',')} + ${total - 3} more...` : out.join(',');
}

function jobStatus(job: Served<IJob>): string {
  const conds = job.status?.conditions ?? [];
  const has = (t: string) => conds.some((c) => c.type === t && c.status === 'True');
  if (has('Complete')) return 'Complete';
  if (has('Failed')) return 'Failed';
  if (job.metadata.deletionTimestamp) return 'Terminating';
  if (has('Suspended')) return 'Suspended';
  if (has('FailureTarget')) return 'FailureTarget';
  if (has('SuccessCriteriaMet')) return 'SuccessCriteriaMet';
  return 'Running';
}

function jobDuration(job: Served<IJob>, now: number): string {
  const start = job.status?.startTime;
  if (!start) return '';
  const end = job.status?.completionTime ?? new Date(now).toISOString();
  return age(start, Date.parse(end));
}

function podCells(p: Served<IPod>, now: number): Cell[] {
  const ready = (p.status?.containerStatuses ?? []).filter((c) => c.ready).length;
  return [
    p.metadata.name,
    `${ready}/${(p.spec?.containers ?? []).length}`,
    podStatusReason(p),
    podRestarts(p, now),
    age(p.metadata.creationTimestamp, now),
    p.status?.podIP ?? '<none>',
    p.spec?.nodeName ?? '<none>',
    p.status?.nominatedNodeName ?? '<none>',
    '<none>',
  ];
}

function eventCells(e: Served<IEvent>, now: number): Cell[] {
  const last = e.lastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp;
  const first = e.firstTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp;
  const involved = e.involvedObject as IEvent['involvedObject'] | undefined;
  const obj = `${(involved?.kind ?? '').toLowerCase()}/${involved?.name ?? ''}`;
  const source = [e.source?.component, e.source?.host].filter(Boolean).join(', ');
  return [
    age(last, now),
    e.type ?? '',
    e.reason ?? '',
    obj,
    involved?.fieldPath ?? '',
    source,
    e.message ?? '',
    age(first, now),
    e.count ?? 1,
    e.metadata.name,
  ];
}

function nodeCells(n: Served<INode>, now: number): Cell[] {
  const ready = (n.status?.conditions ?? []).find((c) => c.type === 'Ready');
  const roles = Object.keys(n.metadata.labels ?? {})
    .filter((k) => k.startsWith('node-role.kubernetes.io/'))
    .map((k) => k.slice('node-role.kubernetes.io/'.length));
  const ip = (n.status?.addresses ?? []).find((a) => a.type === 'InternalIP')?.address ?? '<none>';
  const info = n.status?.nodeInfo;
  return [
    n.metadata.name,
    (ready?.status === 'True' ? 'Ready' : 'NotReady') +
      (n.spec?.unschedulable ? ',SchedulingDisabled' : ''),
    roles.length ? roles.join(',') : '<none>',
    age(n.metadata.creationTimestamp, now),
    info?.kubeletVersion ?? '',
    ip,
    '<none>',
    info?.osImage ?? '<unknown>',
    info?.kernelVersion ?? '<unknown>',
    info?.containerRuntimeVersion ?? '<unknown>',
  ];
}

const WORKLOAD_COLUMNS = [col('Containers', 1), col('Images', 1), col('Selector', 1)];

const TABLES: Record<string, Printer> = {
  pods: printer<IPod>(
    [
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
    podCells,
  ),
  deployments: printer<IDeployment>(
    [
      col('Name'),
      col('Ready'),
      col('Up-to-date', 0, 'integer'),
      col('Available', 0, 'integer'),
      col('Age'),
      ...WORKLOAD_COLUMNS,
    ],
    (d, now) => [
      d.metadata.name,
      `${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 0}`,
      d.status?.updatedReplicas ?? 0,
      d.status?.availableReplicas ?? 0,
      age(d.metadata.creationTimestamp, now),
      containerNames(d.spec?.template?.spec),
      images(d.spec?.template?.spec),
      selectorText(d.spec?.selector),
    ],
  ),
  replicasets: printer<IReplicaSet>(
    [
      col('Name'),
      col('Desired', 0, 'integer'),
      col('Current', 0, 'integer'),
      col('Ready', 0, 'integer'),
      col('Age'),
      ...WORKLOAD_COLUMNS,
    ],
    (r, now) => [
      r.metadata.name,
      r.spec?.replicas ?? 0,
      r.status?.replicas ?? 0,
      r.status?.readyReplicas ?? 0,
      age(r.metadata.creationTimestamp, now),
      containerNames(r.spec?.template?.spec),
      images(r.spec?.template?.spec),
      selectorText(r.spec?.selector),
    ],
  ),
  services: printer<IService>(
    [
      col('Name'),
      col('Type'),
      col('Cluster-IP'),
      col('External-IP'),
      col('Port(s)'),
      col('Age'),
      col('Selector', 1),
    ],
    (s, now) => [
      s.metadata.name,
      s.spec?.type ?? 'ClusterIP',
      s.spec?.clusterIP ?? '<none>',
      '<none>',
      servicePorts(s),
      age(s.metadata.creationTimestamp, now),
      selectorText(s.spec?.selector),
    ],
  ),
  endpointslices: printer<IEndpointSlice>(
    [col('Name'), col('AddressType'), col('Ports'), col('Endpoints'), col('Age')],
    (s, now) => [
      s.metadata.name,
      s.addressType,
      sliceText(
        (s.ports ?? []).map((p) => String(p.port ?? '')),
        '<unset>',
      ),
      sliceText(
        (s.endpoints ?? []).flatMap((e) => e.addresses),
        '<unset>',
      ),
      age(s.metadata.creationTimestamp, now),
    ],
  ),
  endpoints: printer<IEndpoints>([col('Name'), col('Endpoints'), col('Age')], (e, now) => [
    e.metadata.name,
    endpointsText(e),
    age(e.metadata.creationTimestamp, now),
  ]),
  events: printer<IEvent>(
    [
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
    eventCells,
  ),
  jobs: printer<IJob>(
    [
      col('Name'),
      col('Status'),
      col('Completions'),
      col('Duration'),
      col('Age'),
      ...WORKLOAD_COLUMNS,
    ],
    (j, now) => [
      j.metadata.name,
      jobStatus(j),
      `${j.status?.succeeded ?? 0}/${j.spec?.completions ?? 1}`,
      jobDuration(j, now),
      age(j.metadata.creationTimestamp, now),
      containerNames(j.spec?.template?.spec),
      images(j.spec?.template?.spec),
      selectorText(j.spec?.selector),
    ],
  ),
  namespaces: printer<INamespace>([col('Name'), col('Status'), col('Age')], (n, now) => [
    n.metadata.name,
    n.status?.phase ?? 'Active',
    age(n.metadata.creationTimestamp, now),
  ]),
  nodes: printer<INode>(
    [
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
    nodeCells,
  ),
  configmaps: printer<{ data?: Record<string, string>; binaryData?: Record<string, string> }>(
    [col('Name'), col('Data', 0, 'integer'), col('Age')],
    (c, now) => [
      c.metadata.name,
      Object.keys(c.data ?? {}).length + Object.keys(c.binaryData ?? {}).length,
      age(c.metadata.creationTimestamp, now),
    ],
  ),
  secrets: printer<{ type?: string; data?: Record<string, string> }>(
    [col('Name'), col('Type'), col('Data', 0, 'string'), col('Age')],
    (s, now) => [
      s.metadata.name,
      s.type ?? '',
      Object.keys(s.data ?? {}).length,
      age(s.metadata.creationTimestamp, now),
    ],
  ),
  serviceaccounts: printer<{ secrets?: unknown[] }>(
    [col('Name'), col('Secrets', 0, 'integer'), col('Age')],
    (a, now) => [a.metadata.name, (a.secrets ?? []).length, age(a.metadata.creationTimestamp, now)],
  ),
  poddisruptionbudgets: printer<IPodDisruptionBudget>(
    [
      col('Name'),
      col('Min Available'),
      col('Max Unavailable'),
      col('Allowed Disruptions', 0, 'integer'),
      col('Age'),
    ],
    (p, now) => [
      p.metadata.name,
      String(p.spec?.minAvailable ?? 'N/A'),
      String(p.spec?.maxUnavailable ?? 'N/A'),
      p.status?.disruptionsAllowed ?? 0,
      age(p.metadata.creationTimestamp, now),
    ],
  ),
};

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
