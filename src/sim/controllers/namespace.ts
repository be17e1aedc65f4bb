import type { Store } from '../store.js';
import { RESOURCE_TYPES } from '../resources.js';
import { EVENTS, NAMESPACES, PODS, deletePod, removeQuietly } from './common.js';
import { WorkQueue, type SyncResult } from './queue.js';
import { statusOf, type Condition } from './types.js';

/**
 * Namespace deletion: a Terminating namespace has its contents deleted (pods gracefully,
 * through the kubelet), and is removed once nothing is left in it.
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
        if (e.type !== 'DELETED' && this.terminating(e.object.metadata.name))
          this.queue.add(e.object.metadata.name);
      }),
      this.store.watch(PODS, {}, (e) => {
        const ns = e.object.metadata.namespace ?? '';
        if (e.type === 'DELETED' && this.terminating(ns)) this.queue.add(ns);
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

  private sync(name: string): SyncResult {
    if (!this.terminating(name)) return;
    for (const type of RESOURCE_TYPES) {
      if (!type.namespaced || type === PODS || type === EVENTS) continue;
      for (const o of this.store.list(type, { namespace: name }).items) {
        removeQuietly(this.store, type, name, o.metadata.name);
      }
    }
    const pods = this.store.list(PODS, { namespace: name }).items;
    for (const p of pods) if (!p.metadata.deletionTimestamp) deletePod(this.store, p);
    const left = this.store.list(PODS, { namespace: name }).items.length;
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
      // Pod deletions bring us back through the watch; this is only a safety net.
      return 5000;
    }
    for (const e of this.store.list(EVENTS, { namespace: name }).items) {
      removeQuietly(this.store, EVENTS, name, e.metadata.name);
    }
    removeQuietly(this.store, NAMESPACES, undefined, name);
    return undefined;
  }
}
