import type { KubeObject, Store } from '../store.js';
import { RESOURCE_TYPES } from '../resources.js';
import { EVENTS, NAMESPACES, PODS, deletePod, removeQuietly } from './common.js';
import { WorkQueue, type SyncResult } from './queue.js';
import { statusOf, type Condition } from './types.js';

/**
 * kube-controller-manager's namespace controller waits this long after a namespace is deleted
 * before its first pass, so that every API server sees the deletion.
 */
export const NAMESPACE_DELETION_DELAY_MS = 5000;

/**
 * Namespace deletion, paced as kube-controller-manager paces it: the first pass comes
 * NAMESPACE_DELETION_DELAY_MS after the deletion and deletes the contents (pods gracefully,
 * through the kubelet). While pods remain, the next pass comes after half the longest grace
 * period of the pods still running plus one second, or 5 s after the namespace's status
 * changes (the count of what remains is in it), whichever is first; never when the last pod
 * goes, since that controller does not watch pods. So a namespace whose pods drain in 6 s
 * outlives them by seconds: 10 to 26 s in all for the lesson's pods (30 s grace), as seen on
 * a real cluster.
 */
export class NamespaceController {
  private readonly queue: WorkQueue;
  private readonly unwatch: (() => void)[] = [];

  constructor(
    private readonly store: Store,
    log: (message: string) => void,
  ) {
    this.queue = new WorkQueue('namespace', (key) => this.sync(key), log);
  }

  start(): void {
    this.unwatch.push(
      this.store.watch(NAMESPACES, {}, (e) => {
        // An earlier pass already scheduled wins over this one (addAfter keeps the earliest).
        if (e.type !== 'DELETED' && this.terminating(e.object.metadata.name))
          this.queue.addAfter(e.object.metadata.name, NAMESPACE_DELETION_DELAY_MS);
      }),
    );
  }

  async stop(): Promise<void> {
    for (const u of this.unwatch.splice(0)) u();
    await this.queue.stop();
  }

  private terminating(name: string): boolean {
    const ns = this.store.get(NAMESPACES, undefined, name);
    return (
      ns !== undefined &&
      (ns.metadata.deletionTimestamp !== undefined ||
        statusOf<{ phase: string }>(ns).phase === 'Terminating')
    );
  }

  /**
   * The longest grace period of the pods that still run, or 0 once that long has passed
   * since the namespace was deleted (the real controller's estimate).
   */
  private graceEstimateSeconds(name: string, pods: readonly KubeObject[]): number {
    let estimate = 0;
    for (const p of pods) {
      const phase = statusOf<{ phase: string }>(p).phase;
      if (phase === 'Succeeded' || phase === 'Failed') continue;
      const grace = (p.spec as { terminationGracePeriodSeconds?: number } | undefined)
        ?.terminationGracePeriodSeconds;
      if (typeof grace === 'number' && grace > estimate) estimate = grace;
    }
    const deletedAt = this.store.get(NAMESPACES, undefined, name)?.metadata.deletionTimestamp;
    const since = deletedAt !== undefined ? (Date.now() - Date.parse(deletedAt)) / 1000 : 0;
    return since >= estimate ? 0 : estimate;
  }

  private sync(name: string): SyncResult {
    if (!this.terminating(name)) return;
    for (const type of RESOURCE_TYPES) {
      if (!type.namespaced || type === PODS || type === EVENTS || type.view) continue;
      for (const o of this.store.list(type, { namespace: name }).items) {
        removeQuietly(this.store, type, name, o.metadata.name);
      }
    }
    const pods = this.store.list(PODS, { namespace: name }).items;
    for (const p of pods) if (!p.metadata.deletionTimestamp) deletePod(this.store, p);
    const remaining = this.store.list(PODS, { namespace: name }).items;
    const left = remaining.length;
    if (left > 0) {
      const conditions: Condition[] = [
        {
          type: 'NamespaceContentRemaining',
          status: 'True',
          lastTransitionTime: this.store.timestamp(),
          reason: 'SomeResourcesRemain',
          message: `Some resources are remaining: pods. has ${left} resource instances`,
        },
      ];
      this.store.update(NAMESPACES, undefined, name, (o) => {
        const before = statusOf<{ conditions: Condition[] }>(o).conditions?.[0];
        if (before?.message === conditions[0]?.message) return false;
        o.status = { ...(o.status as object), phase: 'Terminating', conditions };
      });
      const estimate = this.graceEstimateSeconds(name, remaining);
      return estimate > 0 ? (Math.floor(estimate / 2) + 1) * 1000 : 1000;
    }
    for (const e of this.store.list(EVENTS, { namespace: name }).items) {
      removeQuietly(this.store, EVENTS, name, e.metadata.name);
    }
    removeQuietly(this.store, NAMESPACES, undefined, name);
    return undefined;
  }
}
