import type { KubeObject } from '../store.js';
import {
  specOf,
  statusOf,
  type Condition,
  type DeploymentSpec,
  type ReplicaSetSpec,
} from './types.js';

/**
 * A Deployment's status as the real controller reports it: replica counts summed over its
 * ReplicaSets, the Available condition, and the Progressing one with its deadline.
 */

export interface RSStatus {
  replicas: number;
  readyReplicas: number;
  availableReplicas: number;
}

export function replicasOf(rs: KubeObject): number {
  return specOf<ReplicaSetSpec>(rs).replicas ?? 0;
}

export function rsStatus(rs: KubeObject): RSStatus {
  const s = statusOf<RSStatus>(rs);
  return {
    replicas: s.replicas ?? 0,
    readyReplicas: s.readyReplicas ?? 0,
    availableReplicas: s.availableReplicas ?? 0,
  };
}

interface ReplicaCounts {
  replicas: number;
  updatedReplicas: number;
  readyReplicas: number;
  availableReplicas: number;
  unavailableReplicas: number;
}

type PreviousStatus = Partial<ReplicaCounts & { conditions: Condition[] }>;

export interface StatusInput {
  deployment: KubeObject;
  spec: DeploymentSpec;
  desired: number;
  /** Unavailable pods the strategy tolerates (0 for Recreate). */
  maxUnavailable: number;
  /** The Deployment's ReplicaSets, and the one of its current template, if any. */
  replicaSets: KubeObject[];
  current: KubeObject | undefined;
  /** The ReplicaSet this sync created, if it did. */
  createdName: string | undefined;
  /** Now, as written in conditions and as milliseconds. */
  now: string;
  nowMs: number;
}

function replicaCounts(all: KubeObject[], current: KubeObject | undefined): ReplicaCounts {
  const sum = (f: (rs: KubeObject) => number) => all.reduce((n, rs) => n + f(rs), 0);
  const availableReplicas = sum((rs) => rsStatus(rs).availableReplicas);
  return {
    replicas: sum((rs) => rsStatus(rs).replicas),
    updatedReplicas: current ? rsStatus(current).replicas : 0,
    readyReplicas: sum((rs) => rsStatus(rs).readyReplicas),
    availableReplicas,
    unavailableReplicas: Math.max(0, sum(replicasOf) - availableReplicas),
  };
}

/**
 * Sets condition `c`: lastTransitionTime moves when its status does, lastUpdateTime also when
 * its reason does or `touch` asks.
 */
function setCondition(conditions: Condition[], c: Condition, touch: boolean, now: string): void {
  const i = conditions.findIndex((x) => x.type === c.type);
  const before = conditions[i];
  const same = before?.status === c.status;
  const next: Condition = {
    type: c.type,
    status: c.status,
    lastUpdateTime:
      same && before?.reason === c.reason && !touch ? (before.lastUpdateTime ?? now) : now,
    lastTransitionTime: same ? (before.lastTransitionTime ?? now) : now,
    reason: c.reason,
    message: c.message,
  };
  if (i >= 0) conditions[i] = next;
  else conditions.push(next);
}

function progressing(reason: string, message: string, status = 'True'): Condition {
  return { type: 'Progressing', status, reason, message };
}

/** The Progressing condition; returns when to look again for its deadline. */
function setProgressing(
  input: StatusInput,
  counts: ReplicaCounts,
  prev: PreviousStatus,
  conditions: Condition[],
): number | undefined {
  const { spec, desired, current, now } = input;
  const set = (c: Condition, touch: boolean) => setCondition(conditions, c, touch, now);
  const rsName = current?.metadata.name ?? '';
  const before = conditions.find((c) => c.type === 'Progressing');
  const complete =
    counts.updatedReplicas === desired &&
    counts.replicas === desired &&
    counts.availableReplicas === desired &&
    current !== undefined &&
    replicasOf(current) === desired;
  if (spec.paused) {
    set(progressing('DeploymentPaused', 'Deployment is paused', 'Unknown'), false);
    return undefined;
  }
  if (input.createdName) {
    set(
      progressing('NewReplicaSetCreated', `Created new replica set "${input.createdName}"`),
      true,
    );
    return undefined;
  }
  if (complete) {
    const message = `ReplicaSet "${rsName}" has successfully progressed.`;
    set(
      progressing('NewReplicaSetAvailable', message),
      before?.reason !== 'NewReplicaSetAvailable',
    );
    return undefined;
  }
  const moved =
    counts.updatedReplicas > (prev.updatedReplicas ?? 0) ||
    counts.readyReplicas > (prev.readyReplicas ?? 0) ||
    counts.availableReplicas > (prev.availableReplicas ?? 0) ||
    counts.replicas - counts.updatedReplicas < (prev.replicas ?? 0) - (prev.updatedReplicas ?? 0) ||
    before === undefined ||
    before.reason === 'NewReplicaSetAvailable';
  const deadline = (spec.progressDeadlineSeconds ?? 600) * 1000;
  if (moved) {
    set(progressing('ReplicaSetUpdated', `ReplicaSet "${rsName}" is progressing.`), true);
    return deadline + 1000;
  }
  if (before?.reason === 'ProgressDeadlineExceeded') return undefined;
  const left = Date.parse(before?.lastUpdateTime ?? now) + deadline - input.nowMs;
  if (left > 0) return left + 1000;
  const message = `ReplicaSet "${rsName}" has timed out progressing.`;
  set(progressing('ProgressDeadlineExceeded', message, 'False'), true);
  return undefined;
}

function order(type: string): number {
  return type === 'Available' ? 0 : type === 'Progressing' ? 1 : 2;
}

/** The status to write, and when to look again (for the progress deadline). */
export function deploymentStatus(input: StatusInput): {
  status: Record<string, unknown>;
  requeue: number | undefined;
} {
  const { deployment, desired, now } = input;
  const counts = replicaCounts(input.replicaSets, input.current);
  const prev: PreviousStatus = statusOf<PreviousStatus>(deployment);
  const conditions = structuredClone(prev.conditions ?? []);
  const available = counts.availableReplicas >= desired - input.maxUnavailable;
  setCondition(
    conditions,
    available
      ? {
          type: 'Available',
          status: 'True',
          reason: 'MinimumReplicasAvailable',
          message: 'Deployment has minimum availability.',
        }
      : {
          type: 'Available',
          status: 'False',
          reason: 'MinimumReplicasUnavailable',
          message: 'Deployment does not have minimum availability.',
        },
    false,
    now,
  );
  const requeue = setProgressing(input, counts, prev, conditions);
  // Available before Progressing, as the real controller lists them.
  conditions.sort((a, b) => order(a.type) - order(b.type));
  const status: Record<string, unknown> = {
    observedGeneration: deployment.metadata.generation ?? 1,
    ...counts,
    conditions,
  };
  for (const [k, v] of Object.entries(counts)) if (v === 0) delete status[k];
  const collisionCount = statusOf<{ collisionCount: number }>(deployment).collisionCount;
  if (collisionCount !== undefined) status.collisionCount = collisionCount;
  return { status, requeue };
}

/** Conditions without their times: a change of times alone is not worth a write. */
export function stripTimes(
  conditions: Condition[],
): Omit<Condition, 'lastUpdateTime' | 'lastTransitionTime'>[] {
  return conditions.map(({ lastUpdateTime: _u, lastTransitionTime: _t, ...rest }) => rest);
}
