import { afterEach, describe, expect, it, vi } from 'vitest';
import { Store, type KubeObject, type NewObject } from '../src/sim/store.js';
import { NAMESPACES, PODS, REPLICASETS } from '../src/sim/controllers/common.js';
import { ReplicaSetController } from '../src/sim/controllers/replicaset.js';
import { NamespaceController } from '../src/sim/controllers/namespace.js';
import { GarbageCollector } from '../src/sim/gc.js';
import { specOf, type PodSpec, type ReplicaSetSpec } from '../src/sim/controllers/types.js';

/** One fixed instant: every deletionTimestamp below is this plus a grace period. */
const NOW = new Date('2026-03-01T10:00:00Z');
const NODE = 'replica-demo-worker';
const quiet = () => undefined;

function fixedStore(): Store {
  return new Store(() => new Date(NOW));
}

function after(seconds: number): string {
  return new Date(NOW.getTime() + seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function boundPod(name: string, grace: number, extra: Partial<NewObject['metadata']> = {}) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'ns', ...extra },
    spec: {
      nodeName: NODE,
      terminationGracePeriodSeconds: grace,
      containers: [{ name: 'c', image: 'a:1' }],
    },
  };
}

/** What the scheduler does: put every unbound pod of `ns` on a node. */
function bindAll(store: Store, ns: string): void {
  for (const p of store.list(PODS, { namespace: ns }).items) {
    if (specOf<PodSpec>(p).nodeName) continue;
    store.update(PODS, ns, p.metadata.name, (o) => {
      specOf<PodSpec>(o).nodeName = NODE;
    });
  }
}

async function until<T>(what: string, probe: () => T | undefined): Promise<T> {
  for (let i = 0; i < 200; i += 1) {
    const v = probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function deleting(store: Store, ns: string): KubeObject | undefined {
  return store.list(PODS, { namespace: ns }).items.find((p) => p.metadata.deletionTimestamp);
}

describe('graceful pod deletion by the controllers', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('a ReplicaSet scaling down marks the pod deleted at now + its grace period', async () => {
    const store = fixedStore();
    const replicaSets = new ReplicaSetController(store, () => new Date(NOW), quiet);
    replicaSets.start();
    try {
      store.create(REPLICASETS, {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: { name: 'rs', namespace: 'ns' },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: 'x' } },
          template: {
            metadata: { labels: { app: 'x' } },
            spec: { terminationGracePeriodSeconds: 45, containers: [{ name: 'c', image: 'a:1' }] },
          },
        },
      });
      await until('two pods', () =>
        store.list(PODS, { namespace: 'ns' }).items.length === 2 ? true : undefined,
      );
      bindAll(store, 'ns');
      store.update(REPLICASETS, 'ns', 'rs', (o) => {
        specOf<ReplicaSetSpec>(o).replicas = 1;
      });
      const victim = await until('a pod being deleted', () => deleting(store, 'ns'));
      expect(victim.metadata.deletionTimestamp).toBe(after(45));
      expect(victim.metadata.deletionGracePeriodSeconds).toBe(45);
    } finally {
      await replicaSets.stop();
    }
  });

  it('the garbage collector deletes an orphaned pod at now + its grace period', async () => {
    const store = fixedStore();
    const gc = new GarbageCollector(store, quiet);
    store.create(
      PODS,
      boundPod('orphan', 20, {
        ownerReferences: [
          { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'gone', uid: 'no-such-uid' },
        ],
      }),
    );
    gc.start();
    try {
      const pod = await until('the orphan being deleted', () => deleting(store, 'ns'));
      expect(pod.metadata.deletionTimestamp).toBe(after(20));
      expect(pod.metadata.deletionGracePeriodSeconds).toBe(20);
    } finally {
      await gc.stop();
    }
  });

  it('namespace deletion marks its pods deleted at now + their grace period', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setImmediate'] });
    const store = fixedStore();
    const namespaces = new NamespaceController(store, quiet);
    store.create(NAMESPACES, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'ns' },
      spec: { finalizers: ['kubernetes'] },
    });
    store.create(PODS, boundPod('web', 10));
    store.update(NAMESPACES, undefined, 'ns', (o) => {
      o.metadata.deletionTimestamp = after(0);
      o.status = { phase: 'Terminating' };
    });
    namespaces.start();
    try {
      await vi.advanceTimersByTimeAsync(6000);
      const pod = store.mustGet(PODS, 'ns', 'web');
      expect(pod.metadata.deletionTimestamp).toBe(after(10));
      expect(pod.metadata.deletionGracePeriodSeconds).toBe(10);
    } finally {
      await namespaces.stop();
    }
  });
});
