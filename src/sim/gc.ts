import type { KubeObject, Store } from './store.js';
import { resourceByKind, type ResourceType } from './resources.js';
import {
  DEPLOYMENTS,
  JOBS,
  PODS,
  REPLICASETS,
  deleteQuietly,
  splitKey,
} from './controllers/common.js';
import { WorkQueue, type SyncResult } from './controllers/queue.js';
import { FOREGROUND } from './registry/common.js';
import { removeFinalizer } from './registry/delete.js';

/** The kinds that own things here, and the kinds that can be owned. */
const OWNER_TYPES: readonly ResourceType[] = [DEPLOYMENTS, REPLICASETS, JOBS];
const DEPENDENT_TYPES: readonly ResourceType[] = [REPLICASETS, PODS, JOBS];

function ref(type: ResourceType, obj: KubeObject): string {
  return `${type.plural}|${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
}

/**
 * The garbage collector: an object whose owners are all gone is deleted (pods gracefully);
 * an owner being deleted in the foreground (finalizer `foregroundDeletion`) has its
 * dependents deleted first and is removed once none is left.
 */
export class GarbageCollector {
  private readonly queue: WorkQueue;
  private readonly unwatch: (() => void)[] = [];

  constructor(
    private readonly store: Store,
    log: (message: string) => void,
  ) {
    this.queue = new WorkQueue('garbage-collector', (key) => this.sync(key), log);
  }

  start(): void {
    for (const type of new Set([...OWNER_TYPES, ...DEPENDENT_TYPES])) {
      this.unwatch.push(
        this.store.watch(type, {}, (e) => {
          const obj = e.object;
          const ns = obj.metadata.namespace ?? '';
          if (OWNER_TYPES.includes(type)) {
            if (e.type === 'DELETED') {
              for (const dep of this.dependents(obj))
                this.queue.add(`dep:${ref(dep.type, dep.obj)}`);
            } else if (obj.metadata.finalizers?.includes(FOREGROUND)) {
              this.queue.add(`fg:${ref(type, obj)}`);
            }
          }
          if (DEPENDENT_TYPES.includes(type)) {
            if (e.type !== 'DELETED') this.queue.add(`dep:${ref(type, obj)}`);
            // A dependent went away: an owner waiting for it may now be done.
            for (const r of obj.metadata.ownerReferences ?? []) {
              const ownerType = resourceByKind(r.apiVersion, r.kind);
              if (ownerType) this.queue.add(`fg:${ownerType.plural}|${ns}/${r.name}`);
            }
          }
        }),
      );
    }
  }

  async stop(): Promise<void> {
    for (const u of this.unwatch.splice(0)) u();
    await this.queue.stop();
  }

  private dependents(owner: KubeObject): { type: ResourceType; obj: KubeObject }[] {
    const ns = owner.metadata.namespace ?? '';
    return DEPENDENT_TYPES.flatMap((type) =>
      this.store
        .list(type, { namespace: ns })
        .items.filter((o) => o.metadata.ownerReferences?.some((r) => r.uid === owner.metadata.uid))
        .map((obj) => ({ type, obj })),
    );
  }

  private sync(key: string): SyncResult {
    const [what, rest] = [key.slice(0, key.indexOf(':')), key.slice(key.indexOf(':') + 1)];
    const [plural, nsName] = rest.split('|') as [string, string];
    const [ns, name] = splitKey(nsName);
    const type = [...OWNER_TYPES, ...DEPENDENT_TYPES].find((t) => t.plural === plural);
    if (!type) return;
    const obj = this.store.get(type, ns, name);
    if (!obj) return;
    if (what === 'dep') this.checkDependent(type, obj);
    else this.foreground(type, obj);
    return undefined;
  }

  private ownerExists(
    ns: string,
    r: { apiVersion: string; kind: string; name: string; uid: string },
  ): boolean {
    const t = resourceByKind(r.apiVersion, r.kind);
    if (!t) return true; // An owner of a kind we do not serve: leave the dependent alone.
    return this.store.get(t, ns, r.name)?.metadata.uid === r.uid;
  }

  private checkDependent(type: ResourceType, obj: KubeObject): void {
    const refs = obj.metadata.ownerReferences ?? [];
    if (refs.length === 0) return;
    const ns = obj.metadata.namespace ?? '';
    const alive = refs.filter((r) => this.ownerExists(ns, r));
    if (alive.length === refs.length) return;
    if (alive.length > 0) {
      // Some owners remain: only the dangling references go.
      this.store.update(type, ns, obj.metadata.name, (o) => {
        o.metadata.ownerReferences = alive;
      });
      return;
    }
    this.deleteObject(type, obj, false);
  }

  /**
   * Deleted through the registry, as the real collector deletes through the API: pods
   * gracefully, and in the foreground while the owner waits for its dependents.
   */
  private deleteObject(type: ResourceType, obj: KubeObject, foreground: boolean): void {
    deleteQuietly(this.store, type, obj, {
      propagationPolicy: foreground ? 'Foreground' : 'Background',
    });
  }

  private foreground(type: ResourceType, owner: KubeObject): void {
    if (!owner.metadata.deletionTimestamp || !owner.metadata.finalizers?.includes(FOREGROUND))
      return;
    const deps = this.dependents(owner);
    if (deps.length > 0) {
      for (const d of deps) {
        if (!d.obj.metadata.deletionTimestamp) this.deleteObject(d.type, d.obj, true);
      }
      return;
    }
    removeFinalizer(this.store, type, owner.metadata.namespace, owner.metadata.name, FOREGROUND);
  }
}
