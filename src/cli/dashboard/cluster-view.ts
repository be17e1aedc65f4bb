import type * as k8s from '@kubernetes/client-node';
import { replicaId } from '../core/curl-log.js';
import { isPodReady, waitingReason } from '../core/pods.js';
import type { PodCard } from './protocol.js';

/** A pod as the page draws it: one card, in the pod's own colour (its palette index). */

function podState(pod: k8s.V1Pod): string {
  if (pod.metadata?.deletionTimestamp) return 'Terminating';
  if (isPodReady(pod)) return 'Ready';
  const waiting = waitingReason(pod);
  if (waiting) return waiting.reason;
  const phase = pod.status?.phase ?? 'Pending';
  return phase === 'Running' ? 'Running, not ready' : phase;
}

export function podCard(pod: k8s.V1Pod, colours: Readonly<Record<string, number>>): PodCard {
  const name = pod.metadata?.name ?? '?';
  const created = pod.metadata?.creationTimestamp;
  return {
    name,
    replicaId: replicaId(name),
    node: pod.spec?.nodeName ?? null,
    ip: pod.status?.podIP ?? null,
    state: podState(pod),
    ready: isPodReady(pod) && !pod.metadata?.deletionTimestamp,
    terminating: Boolean(pod.metadata?.deletionTimestamp),
    restarts: Math.max(0, ...(pod.status?.containerStatuses ?? []).map((c) => c.restartCount ?? 0)),
    createdAt: created === undefined ? null : new Date(created).getTime(),
    colour: colours[name] ?? null,
  };
}
