import type * as k8s from '@kubernetes/client-node';
import { OperationError } from '../errors.js';
import type { PodInfo } from './histogram.js';
import { SERVICE, SERVICE_PORT } from './names.js';

/** Reading pods the way kubectl and the controllers do. */

export function isPodReady(pod: k8s.V1Pod): boolean {
  return (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

export function readyTime(pod: k8s.V1Pod): number | undefined {
  const condition = (pod.status?.conditions ?? []).find(
    (c) => c.type === 'Ready' && c.status === 'True',
  );
  const time = condition?.lastTransitionTime;
  return time === undefined ? undefined : new Date(time).getTime();
}

function maxRestarts(pod: k8s.V1Pod): number {
  return Math.max(0, ...(pod.status?.containerStatuses ?? []).map((c) => c.restartCount ?? 0));
}

function creationTime(pod: k8s.V1Pod): number | undefined {
  const t = pod.metadata?.creationTimestamp;
  return t === undefined ? undefined : new Date(t).getTime();
}

const PHASE_ORDER: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

/** true when `a` is after `b`, a missing time counting as after any real one (kubectl's afterOrZero). */
function afterOrMissing(a: number | undefined, b: number | undefined): boolean {
  if (a === undefined || b === undefined) return a === undefined;
  return a > b;
}

/**
 * kubectl's `podutils.ActivePods` Less: "less active" first, the order controllers delete in.
 * kubectl port-forward/exec/logs on a Service sort with the reverse and take the first pod.
 */
export function lessActive(a: k8s.V1Pod, b: k8s.V1Pod): boolean {
  const nodeA = a.spec?.nodeName ?? '';
  const nodeB = b.spec?.nodeName ?? '';
  // 1. Unassigned < assigned
  if (nodeA !== nodeB && (nodeA === '' || nodeB === '')) return nodeA === '';
  // 2. Pending < Unknown < Running (any other phase counts as Pending)
  const phaseA = PHASE_ORDER[a.status?.phase ?? ''] ?? 0;
  const phaseB = PHASE_ORDER[b.status?.phase ?? ''] ?? 0;
  if (phaseA !== phaseB) return phaseA < phaseB;
  // 3. Not ready < ready
  if (isPodReady(a) !== isPodReady(b)) return !isPodReady(a);
  // 4. Ready more recently < ready for longer
  if (isPodReady(a) && isPodReady(b)) {
    const ra = readyTime(a);
    const rb = readyTime(b);
    if (ra !== rb) return afterOrMissing(ra, rb);
  }
  // 5. More restarts < fewer restarts
  if (maxRestarts(a) !== maxRestarts(b)) return maxRestarts(a) > maxRestarts(b);
  // 6. Newer < older (missing creation time first)
  const ca = creationTime(a);
  const cb = creationTime(b);
  if (ca !== cb) return afterOrMissing(ca, cb);
  return false;
}

export interface PortForwardChoice {
  pod: k8s.V1Pod;
  reason: string;
}

/**
 * The pod `kubectl port-forward svc/<name>` would use: the Service's selector lists the pods,
 * `sort.Sort(sort.Reverse(podutils.ActivePods(pods)))`, then the first. A stable sort keeps
 * the API's (name) order among exact ties, where Go's sort is merely unspecified.
 */
export function pickPortForwardPod(pods: readonly k8s.V1Pod[]): PortForwardChoice | undefined {
  if (pods.length === 0) return undefined;
  const sorted = [...pods].sort((a, b) => (lessActive(b, a) ? -1 : lessActive(a, b) ? 1 : 0));
  const pod = sorted[0] as k8s.V1Pod;
  return { pod, reason: choiceReason(pod, sorted[1]) };
}

function choiceReason(pod: k8s.V1Pod, next: k8s.V1Pod | undefined): string {
  const rule = 'kubectl sorts the pods most active first and takes the first';
  if (next === undefined) return 'the only pod behind the Service';
  if ((pod.spec?.nodeName ?? '') !== '' && (next.spec?.nodeName ?? '') === '')
    return `${rule}: it is the only one scheduled`;
  if (pod.status?.phase !== next.status?.phase) return `${rule}: it is Running`;
  if (isPodReady(pod) !== isPodReady(next)) return `${rule}: it is Ready`;
  const ready = readyTime(pod);
  if (isPodReady(pod) && ready !== readyTime(next) && ready !== undefined)
    return `${rule}: it has been Ready the longest (since ${new Date(ready).toISOString()})`;
  if (maxRestarts(pod) !== maxRestarts(next)) return `${rule}: it has restarted the least`;
  const created = creationTime(pod);
  if (created !== creationTime(next) && created !== undefined)
    return `${rule}: it is the oldest (created ${new Date(created).toISOString()})`;
  return `${rule}: it ties with the others on every rule and comes first in the API's list`;
}

export function podInfo(pod: k8s.V1Pod): PodInfo {
  return { name: pod.metadata?.name ?? '?', node: pod.spec?.nodeName ?? '?' };
}

/** `app=web-server,tier=x` from a Service's selector map. */
export function selectorString(selector: Record<string, string> | undefined): string {
  return Object.entries(selector ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

/** Why a pod is not running, in the container's own words (ErrImagePull, CrashLoopBackOff...). */
export function waitingReason(pod: k8s.V1Pod): { reason: string; message: string } | undefined {
  for (const status of pod.status?.containerStatuses ?? []) {
    const waiting = status.state?.waiting;
    if (
      waiting?.reason &&
      waiting.reason !== 'ContainerCreating' &&
      waiting.reason !== 'PodInitializing'
    ) {
      return { reason: waiting.reason, message: waiting.message ?? '' };
    }
  }
  return undefined;
}

/** The pod port the Service sends to, as kubectl port-forward svc/... resolves it for a pod. */
export function targetPortFor(service: k8s.V1Service, pod: k8s.V1Pod): number {
  const ports = service.spec?.ports ?? [];
  const port = ports.find((p) => p.port === SERVICE_PORT) ?? ports[0];
  const targetPort: unknown = port?.targetPort ?? port?.port;
  if (typeof targetPort === 'number') return targetPort;
  if (typeof targetPort === 'string' && /^\d+$/.test(targetPort)) return Number(targetPort);
  // A named targetPort is looked up in the chosen pod, as kubectl does.
  for (const container of pod.spec?.containers ?? []) {
    for (const p of container.ports ?? []) {
      if (p.name === targetPort) return p.containerPort;
    }
  }
  throw new OperationError(
    `Service ${SERVICE} points at port "${String(targetPort)}", which pod ${pod.metadata?.name ?? '?'} does not declare.`,
  );
}
