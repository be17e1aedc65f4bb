import type { KubeObject, Store } from '../store.js';
import { recordEvent } from '../events.js';
import { matchesLabels, requirementsFromLabelSelector } from '../selectors.js';
import {
  PODS,
  REPLICASETS,
  controllerOf,
  ownersToSync,
  deletePod,
  isPodActive,
  isPodAvailable,
  isPodReady,
  keyOf,
  ownedBy,
  ownerReference,
  podCondition,
  splitKey,
} from './common.js';
import { createPodFor } from './pods.js';
import { WorkQueue, type SyncResult } from './queue.js';
import {
  specOf,
  statusOf,
  type Condition,
  type ContainerStatus,
  type PodSpec,
  type ReplicaSetSpec,
} from './types.js';
import { stableJson } from './deployment.js';

const COMPONENT = 'replicaset-controller';
// The real controller creates at most this many pods per sync ("slow start" aside).
const BURST = 500;

const PHASE_RANK: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

/**
 * The order in which the real controller picks pods to delete when scaling down: not yet
 * scheduled, then not running, then not ready, then doubled up on a node, then ready for the
 * shortest time, then most restarts, then newest.
 */
export function deletionOrder(pods: KubeObject[]): KubeObject[] {
  const perNode = new Map<string, number>();
  for (const p of pods) {
    const node = specOf<PodSpec>(p).nodeName ?? '';
    perNode.set(node, (perNode.get(node) ?? 0) + 1);
  }
  const restarts = (p: KubeObject) =>
    (statusOf<{ containerStatuses: ContainerStatus[] }>(p).containerStatuses ?? []).reduce(
      (n, c) => n + c.restartCount,
      0,
    );
  const readySince = (p: KubeObject) =>
    Date.parse(podCondition(p, 'Ready')?.lastTransitionTime ?? '') || 0;
  return [...pods].sort((a, b) => {
    const na = specOf<PodSpec>(a).nodeName;
    const nb = specOf<PodSpec>(b).nodeName;
    if (!na !== !nb) return na ? 1 : -1;
    const pa = PHASE_RANK[statusOf<{ phase: string }>(a).phase ?? 'Pending'] ?? 0;
    const pb = PHASE_RANK[statusOf<{ phase: string }>(b).phase ?? 'Pending'] ?? 0;
    if (pa !== pb) return pa - pb;
    const ra = isPodReady(a);
    const rb = isPodReady(b);
    if (ra !== rb) return ra ? 1 : -1;
    const da = perNode.get(na ?? '') ?? 0;
    const db = perNode.get(nb ?? '') ?? 0;
    if (da !== db) return db - da;
    if (ra && rb) {
      const sa = readySince(a);
      const sb = readySince(b);
      if (sa !== sb) return sb - sa;
    }
    const xa = restarts(a);
    const xb = restarts(b);
    if (xa !== xb) return xb - xa;
    return (
      b.metadata.creationTimestamp.localeCompare(a.metadata.creationTimestamp) ||
      Number(b.metadata.resourceVersion) - Number(a.metadata.resourceVersion)
    );
  });
}

/** ReplicaSet -> Pods: keeps `spec.replicas` active pods and reports how many are ready. */
export class ReplicaSetController {
  private readonly queue: WorkQueue;
  private readonly unwatch: (() => void)[] = [];

  constructor(
    private readonly store: Store,
    private readonly now: () => Date,
    log: (message: string) => void,
  ) {
    this.queue = new WorkQueue('replicaset', (key) => this.sync(key), log);
  }

  start(): void {
    this.unwatch.push(
      this.store.watch(REPLICASETS, {}, (e) => this.queue.add(keyOf(e.object))),
      this.store.watch(PODS, {}, (e) => {
        for (const key of ownersToSync(this.store, REPLICASETS, e)) this.queue.add(key);
      }),
    );
  }

  async stop(): Promise<void> {
    for (const u of this.unwatch.splice(0)) u();
    await this.queue.stop();
  }

  /**
   * As the real controller: adopt orphan pods that match the selector, and release owned
   * pods that no longer do (relabelling a pod takes it out of the set, and is replaced).
   */
  private claimPods(rs: KubeObject, spec: ReplicaSetSpec): void {
    const selector = requirementsFromLabelSelector(spec.selector);
    if (selector.length === 0) return;
    const ns = rs.metadata.namespace ?? '';
    for (const pod of this.store.list(PODS, { namespace: ns }).items) {
      const owner = controllerOf(pod);
      const matches = matchesLabels(selector, pod.metadata.labels);
      if (!owner && matches && isPodActive(pod)) {
        this.store.update(PODS, ns, pod.metadata.name, (o) => {
          o.metadata.ownerReferences = [...(o.metadata.ownerReferences ?? []), ownerReference(rs)];
        });
      } else if (owner?.uid === rs.metadata.uid && !matches) {
        this.store.update(PODS, ns, pod.metadata.name, (o) => {
          o.metadata.ownerReferences = (o.metadata.ownerReferences ?? []).filter(
            (r) => r.uid !== rs.metadata.uid,
          );
        });
      }
    }
  }

  private sync(key: string): SyncResult {
    const [ns, name] = splitKey(key);
    const rs = this.store.get(REPLICASETS, ns, name);
    if (!rs) return;
    const spec = specOf<ReplicaSetSpec>(rs);
    const want = spec.replicas ?? 1;
    let failure: string | undefined;
    const active = () => ownedBy(this.store, PODS, rs).filter(isPodActive);
    if (!rs.metadata.deletionTimestamp) {
      this.claimPods(rs, spec);
      const pods = active();
      const diff = pods.length - want;
      if (diff < 0) {
        for (let i = 0; i < Math.min(-diff, BURST); i += 1) {
          const made = createPodFor(this.store, rs, spec.template, {}, COMPONENT);
          if (typeof made === 'string') {
            failure = made;
            break;
          }
        }
      } else if (diff > 0) {
        for (const pod of deletionOrder(pods).slice(0, diff)) {
          deletePod(this.store, pod);
          recordEvent(
            this.store,
            rs,
            'Normal',
            'SuccessfulDelete',
            `Deleted pod: ${pod.metadata.name}`,
            COMPONENT,
          );
        }
      }
    }
    const pods = active();
    const minReady = spec.minReadySeconds ?? 0;
    const now = this.now();
    const templateLabels = requirementsFromLabelSelector({
      matchLabels: spec.template.metadata?.labels ?? {},
    });
    const ready = pods.filter(isPodReady);
    const available = pods.filter((p) => isPodAvailable(p, minReady, now));
    const prev = statusOf<{ conditions: Condition[] }>(rs);
    let conditions = (prev.conditions ?? []).filter((c) => c.type !== 'ReplicaFailure');
    if (failure) {
      const before = prev.conditions?.find((c) => c.type === 'ReplicaFailure');
      conditions = [
        ...conditions,
        {
          type: 'ReplicaFailure',
          status: 'True',
          lastTransitionTime: before?.lastTransitionTime ?? this.store.timestamp(),
          reason: 'FailedCreate',
          message: failure.replace(/^Error creating: /, ''),
        },
      ];
    }
    const status: Record<string, unknown> = {
      replicas: pods.length,
      fullyLabeledReplicas: pods.filter((p) => matchesLabels(templateLabels, p.metadata.labels))
        .length,
      readyReplicas: ready.length,
      availableReplicas: available.length,
      observedGeneration: rs.metadata.generation ?? 1,
    };
    for (const k of ['fullyLabeledReplicas', 'readyReplicas', 'availableReplicas']) {
      if (status[k] === 0) delete status[k];
    }
    if (conditions.length > 0) status.conditions = conditions;
    this.store.update(REPLICASETS, ns, name, (o) => {
      if (stableJson(o.status) === stableJson(status)) return false;
      o.status = status;
    });
    // Failed creations are retried, as the real controller does with back-off.
    if (failure) return 5000;
    if (minReady > 0 && ready.length > available.length) return 1000;
    return undefined;
  }
}
