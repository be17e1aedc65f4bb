import type { KubeObject, Store } from '../store.js';
import { matchesLabels, requirementsFromLabelSelector } from '../selectors.js';
import {
  DEPLOYMENTS,
  PDBS,
  PODS,
  REPLICASETS,
  isPodReady,
  isPodTerminal,
  keyOf,
} from './common.js';
import { resolveIntOrPercent, stableJson } from './deployment.js';
import { WorkQueue, type SyncResult } from './queue.js';

/**
 * The disruption controller: a PodDisruptionBudget's status (how many pods it expects, how
 * many are healthy, how many may be disrupted now), as kube-controller-manager computes it,
 * which `kubectl get pdb`, `describe pdb`, evictions and `kubectl drain` read.
 */

interface PdbSpec {
  minAvailable?: number | string;
  maxUnavailable?: number | string;
  selector?: Parameters<typeof requirementsFromLabelSelector>[0];
}

export interface PdbStatus {
  observedGeneration: number;
  disruptionsAllowed: number;
  currentHealthy: number;
  desiredHealthy: number;
  expectedPods: number;
  conditions: {
    type: 'DisruptionAllowed';
    status: 'True' | 'False';
    reason: 'SufficientPods' | 'InsufficientPods';
    message: string;
    observedGeneration: number;
    lastTransitionTime: string;
  }[];
}

/** The pods a budget covers: live pods of its namespace that its selector matches. */
export function coveredPods(store: Store, pdb: KubeObject): KubeObject[] {
  const spec = (pdb.spec ?? {}) as PdbSpec;
  const reqs = requirementsFromLabelSelector(spec.selector ?? {});
  return store
    .list(PODS, { namespace: pdb.metadata.namespace })
    .items.filter((p) => !isPodTerminal(p) && matchesLabels(reqs, p.metadata.labels));
}

/** How many pods the budget expects: the replicas its pods' controllers ask for. */
function expectedCount(store: Store, pods: KubeObject[]): number {
  const scales = new Map<string, number>();
  let unowned = 0;
  for (const pod of pods) {
    const ref = pod.metadata.ownerReferences?.find((r) => r.controller);
    if (!ref) {
      unowned += 1;
      continue;
    }
    let owner: KubeObject | undefined;
    if (ref.kind === 'ReplicaSet') {
      const rs = store.get(REPLICASETS, pod.metadata.namespace, ref.name);
      const dRef = rs?.metadata.ownerReferences?.find((r) => r.controller);
      owner =
        dRef?.kind === 'Deployment'
          ? store.get(DEPLOYMENTS, pod.metadata.namespace, dRef.name)
          : rs;
    }
    const key = owner ? `${owner.kind}/${owner.metadata.name}` : `${ref.kind}/${ref.name}`;
    const replicas = (owner?.spec as { replicas?: number } | undefined)?.replicas;
    scales.set(key, replicas ?? 1);
  }
  return unowned + [...scales.values()].reduce((a, b) => a + b, 0);
}

export function pdbStatus(store: Store, pdb: KubeObject, now: string): PdbStatus {
  const spec = (pdb.spec ?? {}) as PdbSpec;
  const pods = coveredPods(store, pdb);
  const healthy = pods.filter((p) => isPodReady(p) && !p.metadata.deletionTimestamp).length;
  let expected = pods.length;
  let desired: number;
  if (spec.maxUnavailable !== undefined) {
    expected = expectedCount(store, pods);
    desired = Math.max(0, expected - resolveIntOrPercent(spec.maxUnavailable, expected, true, '0'));
  } else if (typeof spec.minAvailable === 'string') {
    expected = expectedCount(store, pods);
    desired = resolveIntOrPercent(spec.minAvailable, expected, true, '0');
  } else desired = spec.minAvailable ?? 0;
  const allowed = Math.max(0, healthy - desired);
  const generation = pdb.metadata.generation ?? 1;
  const before = (pdb.status as Partial<PdbStatus> | undefined)?.conditions?.[0];
  const state = allowed > 0 ? 'True' : 'False';
  return {
    observedGeneration: generation,
    disruptionsAllowed: allowed,
    currentHealthy: healthy,
    desiredHealthy: desired,
    expectedPods: expected,
    conditions: [
      {
        type: 'DisruptionAllowed',
        status: state,
        reason: allowed > 0 ? 'SufficientPods' : 'InsufficientPods',
        message: '',
        observedGeneration: generation,
        lastTransitionTime: before?.status === state ? (before.lastTransitionTime ?? now) : now,
      },
    ],
  };
}

export class DisruptionController {
  private readonly queue: WorkQueue;
  private readonly unwatch: (() => void)[] = [];

  constructor(
    private readonly store: Store,
    log: (message: string) => void,
  ) {
    this.queue = new WorkQueue('disruption', (key) => this.sync(key), log);
  }

  start(): void {
    const byNamespace = (o: KubeObject) => {
      for (const pdb of this.store.list(PDBS, { namespace: o.metadata.namespace }).items)
        this.queue.add(keyOf(pdb));
    };
    this.unwatch.push(
      this.store.watch(PDBS, {}, (e) => this.queue.add(keyOf(e.object))),
      this.store.watch(PODS, {}, (e) => byNamespace(e.object)),
      this.store.watch(DEPLOYMENTS, {}, (e) => byNamespace(e.object)),
    );
  }

  async stop(): Promise<void> {
    for (const u of this.unwatch.splice(0)) u();
    await this.queue.stop();
  }

  private sync(key: string): SyncResult {
    const i = key.indexOf('/');
    const pdb = this.store.get(PDBS, key.slice(0, i), key.slice(i + 1));
    if (!pdb || pdb.metadata.deletionTimestamp) return;
    const status = pdbStatus(this.store, pdb, this.store.timestamp());
    const old = pdb.status as PdbStatus | undefined;
    const strip = (s: PdbStatus | undefined) =>
      s &&
      stableJson({ ...s, conditions: s.conditions.map((c) => ({ ...c, lastTransitionTime: '' })) });
    if (strip(old) === strip(status)) return;
    this.store.update(
      PDBS,
      pdb.metadata.namespace,
      pdb.metadata.name,
      (o) => {
        o.status = status;
      },
      undefined,
      { status: true },
    );
  }
}
