import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { PodAddresses } from '../src/sim/kubelet/ipam.js';
import { verifyLoopbackRange } from '../src/sim/runtime.js';
import { Store, type KubeObject } from '../src/sim/store.js';
import { seededRandom } from '../src/sim/random.js';
import { nodeNames, registerNodes, toleratesTaints } from '../src/sim/nodes.js';
import { DEPLOYMENTS, NODES, PODS, REPLICASETS } from '../src/sim/controllers/common.js';
import {
  DeploymentController,
  podTemplateHash,
  resolveIntOrPercent,
  stableJson,
} from '../src/sim/controllers/deployment.js';
import { ReplicaSetController, deletionOrder } from '../src/sim/controllers/replicaset.js';
import { endpointSubsets } from '../src/sim/controllers/endpoints.js';
import { backendsFor } from '../src/sim/proxy.js';
import { imageKind, repositoryOf } from '../src/sim/kubelet/images.js';
import { containerEnv, expandReferences } from '../src/sim/kubelet/env.js';
import { LogBook, logTimestamp } from '../src/sim/kubelet/logs.js';
import { crashBackOffMs } from '../src/sim/kubelet/run.js';
import { goDuration } from '../src/sim/go-duration.js';
import { EventReaper, recordEvent } from '../src/sim/events.js';
import { EVENTS, NAMESPACES } from '../src/sim/controllers/common.js';
import {
  specOf,
  type DeploymentSpec,
  type PodSpec,
  type PodTemplate,
  type ReplicaSetSpec,
} from '../src/sim/controllers/types.js';

function pod(
  name: string,
  extra: Partial<KubeObject> & { ready?: boolean; node?: string; ip?: string },
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'ns',
      uid: `uid-${name}`,
      resourceVersion: '1',
      creationTimestamp: '2026-01-01T00:00:00Z',
      labels: { app: 'web' },
      ...extra.metadata,
    },
    spec: {
      containers: [{ name: 'web', ports: [{ name: 'http', containerPort: 8080 }] }],
      ...(extra.node ? { nodeName: extra.node } : {}),
    },
    status: {
      phase: extra.node ? 'Running' : 'Pending',
      ...(extra.ip ? { podIP: extra.ip } : {}),
      conditions: [
        {
          type: 'Ready',
          status: extra.ready ? 'True' : 'False',
          lastTransitionTime: '2026-01-01T00:00:00Z',
        },
      ],
    },
  };
}

describe('random', () => {
  it('repeats its sequence for one seed and differs for another', () => {
    const a = seededRandom('s');
    const b = seededRandom('s');
    const c = seededRandom('t');
    const xs = Array.from({ length: 5 }, () => a());
    expect(Array.from({ length: 5 }, () => b())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c())).not.toEqual(xs);
    for (const x of xs) expect(x >= 0 && x < 1).toBe(true);
  });
});

describe('nodes', () => {
  it('names nodes like kind and leaves a single control plane untainted', () => {
    expect(nodeNames(4)).toEqual([
      'replica-demo-control-plane',
      'replica-demo-worker',
      'replica-demo-worker2',
      'replica-demo-worker3',
    ]);
    const store = new Store();
    registerNodes(store, 1);
    const only = store.mustGet(NODES, undefined, 'replica-demo-control-plane');
    expect(specOf<PodSpec & { taints?: unknown[] }>(only).taints).toBeUndefined();
    expect(toleratesTaints(pod('p', {}), only)).toBe(true);
  });

  it('keeps pods off a tainted control plane unless they tolerate it', () => {
    const store = new Store();
    registerNodes(store, 2);
    const cp = store.mustGet(NODES, undefined, 'replica-demo-control-plane');
    const plain = pod('p', {});
    expect(toleratesTaints(plain, cp)).toBe(false);
    const tolerant = pod('q', {});
    specOf<PodSpec>(tolerant).tolerations = [
      { key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' },
    ];
    expect(toleratesTaints(tolerant, cp)).toBe(true);
  });
});

describe('deployment helpers', () => {
  const template: PodTemplate = {
    metadata: { labels: { app: 'web' } },
    spec: { containers: [{ name: 'web', image: 'a:1' }] },
  };

  it('hashes a template stably, ignoring key order and its own hash label', () => {
    const h = podTemplateHash(template);
    expect(h).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
    const reordered: PodTemplate = {
      spec: { containers: [{ image: 'a:1', name: 'web' }] },
      metadata: { labels: { app: 'web', 'pod-template-hash': h } },
    };
    expect(podTemplateHash(reordered)).toBe(h);
    expect(
      podTemplateHash({ ...template, spec: { containers: [{ name: 'web', image: 'a:2' }] } }),
    ).not.toBe(h);
    expect(podTemplateHash(template, 1)).not.toBe(h);
  });

  it('rounds surge up and unavailability down, as the real controller', () => {
    expect(resolveIntOrPercent('25%', 5, true, '25%')).toBe(2);
    expect(resolveIntOrPercent('25%', 5, false, '25%')).toBe(1);
    expect(resolveIntOrPercent(undefined, 10, false, '25%')).toBe(2);
    expect(resolveIntOrPercent(0, 10, true, '25%')).toBe(0);
  });

  it('prints JSON with sorted keys', () => {
    expect(stableJson({ b: 1, a: [{ d: 1, c: 2 }] })).toBe('{"a":[{"c":2,"d":1}],"b":1}');
  });
});

describe('replica set scale-down order', () => {
  it('deletes unscheduled, then not ready, then doubled-up pods first', () => {
    const pods = [
      pod('ready-a', { ready: true, node: 'n1', ip: '127.10.1.2' }),
      pod('ready-b', { ready: true, node: 'n2', ip: '127.10.2.2' }),
      pod('ready-c', { ready: true, node: 'n2', ip: '127.10.2.3' }),
      pod('unready', { ready: false, node: 'n3', ip: '127.10.3.2' }),
      pod('pending', {}),
    ];
    const order = deletionOrder(pods).map((p) => p.metadata.name);
    expect(order.slice(0, 2)).toEqual(['pending', 'unready']);
    expect(order.indexOf('ready-a')).toBe(4);
  });
});

describe('endpoints', () => {
  it('puts ready pods in addresses and others in notReadyAddresses, resolving named ports', () => {
    const svc: KubeObject = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: 's',
        namespace: 'ns',
        uid: 'u',
        resourceVersion: '1',
        creationTimestamp: '',
      },
      spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
    };
    const terminating = pod('going', { ready: true, node: 'n1', ip: '127.10.1.9' });
    terminating.metadata.deletionTimestamp = '2026-01-01T00:00:00Z';
    const subsets = endpointSubsets(svc, [
      pod('a', { ready: true, node: 'n1', ip: '127.10.1.2' }),
      pod('b', { ready: false, node: 'n2', ip: '127.10.2.2' }),
      pod('c', { ready: true, node: 'n2' }),
      terminating,
    ]);
    expect(subsets).toHaveLength(1);
    expect(subsets[0]?.ports).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }]);
    expect(subsets[0]?.addresses?.map((a) => a.ip)).toEqual(['127.10.1.2']);
    expect(subsets[0]?.notReadyAddresses?.map((a) => a.ip)).toEqual(['127.10.2.2']);
    const ep = { ...svc, kind: 'Endpoints', subsets } as KubeObject;
    expect(backendsFor(ep, { name: 'http', port: 80 })).toEqual([{ ip: '127.10.1.2', port: 8080 }]);
  });
});

describe('images and env', () => {
  it('knows the two images it runs, whatever the registry or tag', () => {
    expect(imageKind('multi-replica-app:abc123')).toBe('server');
    expect(imageKind('docker.io/library/multi-replica-app:dev')).toBe('server');
    expect(imageKind('curlimages/curl:8.11.1')).toBe('curl');
    expect(imageKind('localhost:5000/curlimages/curl@sha256:00')).toBe('curl');
    expect(imageKind('nginx')).toBe('unknown');
    expect(repositoryOf('registry.k8s.io/pause:3.10')).toBe('pause');
  });

  it('resolves the downward API and $(VAR) references', () => {
    const p = pod('web-1', { node: 'replica-demo-worker' });
    const env = containerEnv(
      p,
      {
        name: 'web',
        env: [
          { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
          { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
          { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
          { name: 'GREETING', value: 'hi $(POD_NAME) $(NOPE) $$(POD_NAME)' },
        ],
      },
      '127.10.1.5',
      '127.0.0.3',
      {},
      () => undefined,
    );
    expect(env).toEqual({
      POD_NAME: 'web-1',
      POD_IP: '127.10.1.5',
      NODE: 'replica-demo-worker',
      APP: 'web',
      GREETING: 'hi web-1 $(NOPE) $(POD_NAME)',
    });
    expect(expandReferences('$(A)-$(B)', { A: '1' })).toBe('1-$(B)');
  });

  it('reads ConfigMap and Secret keys, and says what is missing as the kubelet does', () => {
    const p = pod('web-1', { node: 'replica-demo-worker' });
    const objects: Record<string, Record<string, string>> = {
      'ConfigMap/cfg': { mode: 'fast' },
      'Secret/creds': { user: 'admin' },
    };
    const lookup = (kind: string, name: string) => objects[`${kind}/${name}`];
    const env = (entry: Record<string, unknown>) =>
      containerEnv(
        p,
        { name: 'web', env: [{ name: 'V', ...entry }] },
        '127.10.1.5',
        '127.0.0.3',
        {},
        lookup,
      );
    expect(env({ valueFrom: { configMapKeyRef: { name: 'cfg', key: 'mode' } } })).toEqual({
      V: 'fast',
    });
    expect(env({ valueFrom: { secretKeyRef: { name: 'creds', key: 'user' } } })).toEqual({
      V: 'admin',
    });
    expect(env({ valueFrom: { secretKeyRef: { name: 'x', key: 'k', optional: true } } })).toEqual(
      {},
    );
    expect(() => env({ valueFrom: { secretKeyRef: { name: 'x', key: 'k' } } })).toThrow(
      'secret "x" not found',
    );
    expect(() => env({ valueFrom: { configMapKeyRef: { name: 'cfg', key: 'nope' } } })).toThrow(
      `couldn't find key nope in ConfigMap ${String(p.metadata.namespace)}/cfg`,
    );
  });
});

describe('logs', () => {
  it('reads, tails, keeps the previous run and follows until the container ends', async () => {
    const store = new Store();
    const p = store.create(PODS, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', namespace: 'ns' },
      spec: { containers: [{ name: 'web' }] },
    });
    const book = new LogBook(store, () => new Date('2026-01-01T00:00:00.120Z'));
    const first = book.start(p.metadata.uid, 'web');
    first.write('stdout', 'one\ntw');
    first.write('stdout', 'o\nthree');
    expect(book.read('ns', 'p', undefined, {})).toBe('one\ntwo\n');
    first.end();
    const second = book.start(p.metadata.uid, 'web');
    second.write('stderr', 'again\n');
    expect(book.read('ns', 'p', 'web', { previous: true })).toBe('one\ntwo\nthree\n');
    expect(book.read('ns', 'p', 'web', { tailLines: 1, timestamps: true })).toBe(
      '2026-01-01T00:00:00.12Z again\n',
    );
    expect(() => book.read('ns', 'p', 'other', {})).toThrow(
      'container other is not valid for pod p',
    );
    const chunks: string[] = [];
    const f = book.follow('ns', 'p', undefined, {}, (t) => chunks.push(t));
    second.write('stdout', 'live\n');
    second.end();
    await f.done;
    expect(chunks.join('')).toBe('again\nlive\n');
    expect(logTimestamp(new Date('2026-01-01T00:00:00.000Z'))).toBe('2026-01-01T00:00:00Z');
  });
});

describe('events', () => {
  it('counts a repeated event on one object instead of adding another', () => {
    const store = new Store();
    store.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns' } });
    const p = store.create(PODS, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', namespace: 'ns' },
      spec: {},
    });
    recordEvent(store, p, 'Warning', 'BackOff', 'Back-off restarting', 'kubelet', { host: 'n1' });
    recordEvent(store, p, 'Warning', 'BackOff', 'Back-off restarting', 'kubelet', { host: 'n1' });
    const events = store.list(EVENTS, { namespace: 'ns' }).items;
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      count: 2,
      reason: 'BackOff',
      type: 'Warning',
      source: { component: 'kubelet', host: 'n1' },
      involvedObject: { kind: 'Pod', name: 'p', namespace: 'ns', uid: p.metadata.uid },
    });
    expect(events[0]?.metadata.name).toMatch(/^p\.[0-9a-f]+$/);
  });

  it('removes events older than the TTL', () => {
    let now = new Date('2026-01-01T00:00:00Z');
    const store = new Store(() => now);
    store.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns' } });
    const p = store.create(PODS, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', namespace: 'ns' },
      spec: {},
    });
    recordEvent(store, p, 'Normal', 'Old', 'old', 'kubelet');
    now = new Date('2026-01-01T00:59:00Z');
    recordEvent(store, p, 'Normal', 'New', 'new', 'kubelet');
    now = new Date('2026-01-01T01:00:01Z');
    const reaper = new EventReaper(store, () => now);
    expect(reaper.sweep()).toBe(1);
    expect(store.list(EVENTS, { namespace: 'ns' }).items.map((e) => e.reason)).toEqual(['New']);
  });
});

describe('loopback range', () => {
  it.skipIf(process.platform !== 'linux')('finds 127.0.0.0/8 usable on Linux', async () => {
    await expect(verifyLoopbackRange()).resolves.toBeUndefined();
  });

  // Only a system without the whole 127/8 (macOS without aliases) can show the refusal.
  it.skipIf(process.platform === 'linux')(
    'refuses clearly where 127.10.0.2 cannot be bound',
    async () => {
      await expect(verifyLoopbackRange()).rejects.toThrow(
        /needs the whole 127\.0\.0\.0\/8 loopback range/,
      );
    },
  );
});

describe('deployment strategies (controllers only, pods never start)', () => {
  const template = (image: string): PodTemplate => ({
    metadata: { labels: { app: 'x' } },
    spec: { containers: [{ name: 'c', image }] },
  });

  async function settle(): Promise<void> {
    for (let i = 0; i < 20; i += 1) await new Promise((r) => setTimeout(r, 10));
  }

  it('honours maxSurge and maxUnavailable: with nothing available, only the surge is added', async () => {
    const store = new Store();
    const deployments = new DeploymentController(
      store,
      () => new Date(),
      () => undefined,
    );
    const replicaSets = new ReplicaSetController(
      store,
      () => new Date(),
      () => undefined,
    );
    deployments.start();
    replicaSets.start();
    try {
      store.create(DEPLOYMENTS, {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'd', namespace: 'ns' },
        spec: {
          replicas: 3,
          selector: { matchLabels: { app: 'x' } },
          strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
          template: template('a:1'),
        },
      });
      await settle();
      expect(store.list(PODS, { namespace: 'ns' }).items).toHaveLength(3);
      store.update(DEPLOYMENTS, 'ns', 'd', (o) => {
        specOf<DeploymentSpec>(o).template = template('a:2');
      });
      await settle();
      const sets = store.list(REPLICASETS, { namespace: 'ns' }).items;
      const replicas = sets.map((r) => specOf<ReplicaSetSpec>(r).replicas).sort();
      // Nothing becomes available without a kubelet: one surge pod, and the old set keeps all 3.
      expect(replicas).toEqual([1, 3]);
      expect(store.list(PODS, { namespace: 'ns' }).items).toHaveLength(4);
    } finally {
      await deployments.stop();
      await replicaSets.stop();
    }
  });

  it('Recreate: the old pods go before any new one is made', async () => {
    const store = new Store();
    const deployments = new DeploymentController(
      store,
      () => new Date(),
      () => undefined,
    );
    const replicaSets = new ReplicaSetController(
      store,
      () => new Date(),
      () => undefined,
    );
    let mixed = false;
    const unwatch = store.watch(PODS, {}, () => {
      const hashes = new Set(
        store
          .list(PODS, { namespace: 'ns' })
          .items.map((p) => p.metadata.labels?.['pod-template-hash']),
      );
      if (hashes.size > 1) mixed = true;
    });
    deployments.start();
    replicaSets.start();
    try {
      store.create(DEPLOYMENTS, {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'd', namespace: 'ns' },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: 'x' } },
          strategy: { type: 'Recreate' },
          template: template('a:1'),
        },
      });
      await settle();
      store.update(DEPLOYMENTS, 'ns', 'd', (o) => {
        specOf<DeploymentSpec>(o).template = template('a:2');
      });
      await settle();
      const pods = store.list(PODS, { namespace: 'ns' }).items;
      expect(pods).toHaveLength(2);
      expect(new Set(pods.map((p) => specOf<PodSpec>(p).containers[0]?.image))).toEqual(
        new Set(['a:2']),
      );
      expect(mixed).toBe(false);
    } finally {
      unwatch();
      await deployments.stop();
      await replicaSets.stop();
    }
  });
});

describe('pod addresses', () => {
  it('hands out distinct addresses in the node range and skips one whose port is taken', async () => {
    const addresses = new PodAddresses(10);
    const a = await addresses.allocate(7, []);
    const b = await addresses.allocate(7, []);
    expect(a).toMatch(/^127\.10\.7\.\d+$/);
    expect(b).not.toBe(a);
    // The next address in the cycle is held by someone else's listener: it is skipped.
    const next = Number(b.split('.')[3]) >= 254 ? 2 : Number(b.split('.')[3]) + 1;
    const holder = net.createServer();
    await new Promise<void>((r) => holder.listen(18080, `127.10.7.${next}`, () => r()));
    try {
      const c = await addresses.allocate(7, [18080]);
      expect(c).not.toBe(`127.10.7.${next}`);
      expect([a, b]).not.toContain(c);
    } finally {
      holder.close();
    }
  });
});

describe("a crashed container's restart back-off", () => {
  it("restarts the first crash at once, then waits 10 s doubling to 5 min, as the kubelet's", () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 8].map(crashBackOffMs);
    expect(delays).toEqual([0, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000]);
    expect(delays.slice(1).map((ms) => goDuration(BigInt(ms) * 1_000_000n))).toEqual([
      '10s',
      '20s',
      '40s',
      '1m20s',
      '2m40s',
      '5m0s',
      '5m0s',
    ]);
  });
});
