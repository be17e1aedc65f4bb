import { existsSync, readFileSync, readdirSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store, type KubeObject, type NewObject } from '../src/sim/store.js';
import { Runtime } from '../src/sim/runtime.js';
import { claimAddressBlock } from '../src/sim/address-block.js';
import { KUBE_VERSION } from '../src/sim/api/discovery.js';
import { ENDPOINTS_PROPAGATION_MS, ServiceProxy } from '../src/sim/proxy.js';
import { FORCED_STOP_DELAY_MS } from '../src/sim/kubelet/termination.js';
import { RELIST_PERIOD_MS } from '../src/sim/kubelet/clock.js';
import { seededRandom } from '../src/sim/random.js';
import { chiSquareEven } from '../src/cli/core/stats.js';
import { admitPod } from '../src/sim/admission.js';
import {
  DEPLOYMENTS,
  ENDPOINTS,
  EVENTS,
  JOBS,
  NAMESPACES,
  NODES,
  PODS,
  REPLICASETS,
  SERVICES,
  deletePod,
  isPodReady,
} from '../src/sim/controllers/common.js';
import { podTemplateHash } from '../src/sim/controllers/deployment.js';
import {
  specOf,
  statusOf,
  type Condition,
  type ContainerStatus,
  type DeploymentSpec,
  type PodSpec,
  type ReplicaSetSpec,
  type ServiceSpec,
} from '../src/sim/controllers/types.js';

interface PodStatus {
  phase: string;
  podIP: string;
  containerStatuses: ContainerStatus[];
}
interface DeploymentStatus {
  observedGeneration: number;
  replicas: number;
  updatedReplicas: number;
  readyReplicas: number;
  availableReplicas: number;
  conditions: Condition[];
}
const podStatus = (p: KubeObject) => statusOf<PodStatus>(p);
const podIP = (p: KubeObject): string => podStatus(p).podIP ?? '';
const deployStatus = (d: KubeObject | undefined) => (d ? statusOf<DeploymentStatus>(d) : {});

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const serverEntry = join(root, 'dist/server/main.js');
const NS = 'multi-replica-web';
const SAFE = '[bcdfghjklmnpqrstvwxz2456789]';
// A /16 of its own per run, so parallel test files never bind the same Service address.
const CLUSTER_IP = `127.96.${200 + Math.floor(Math.random() * 50)}.${2 + Math.floor(Math.random() * 250)}`;

function manifests(): KubeObject[] {
  const dir = join(root, 'manifests');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((f) =>
      parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => d.toJSON() as KubeObject),
    )
    .filter((o) => o !== null);
}

async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false,
  timeoutMs = 20_000,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  // Bounded poll: ends at the deadline.
  while (Date.now() < until) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function pids(runtime: Runtime): number[] {
  return runtime.pids();
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function get(url: string, agent: http.Agent | false, localAddress?: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const req = http.get(url, { agent, ...(localAddress ? { localAddress } : {}) }, (res) => {
      res.resume();
      res.on('end', () => resolvePromise(String(res.headers['x-pod-name'] ?? '')));
    });
    req.on('error', reject);
  });
}

const store = new Store(() => new Date(), seededRandom('names'));
function post(url: string, localAddress?: string): Promise<{ status: number }> {
  return new Promise((resolvePromise, reject) => {
    const req = http.request(
      url,
      { method: 'POST', agent: false, ...(localAddress ? { localAddress } : {}) },
      (res) => {
        res.resume();
        res.on('end', () => resolvePromise({ status: res.statusCode ?? 0 }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const runtime = new Runtime(store, {
  nodes: 3,
  seed: 'runtime-test',
  serverEntry,
  // Other test files run clusters at the same time: a block of its own.
  addressBlock: await claimAddressBlock(),
  log: () => undefined,
});

function webPods(): KubeObject[] {
  return store
    .list(PODS, { namespace: NS, labelSelector: 'app=web-server' })
    .items.filter((p) => !p.metadata.deletionTimestamp);
}

function readyWebPods(n: number): KubeObject[] | undefined {
  const pods = webPods();
  return pods.length === n && pods.every(isPodReady) ? pods : undefined;
}

function events(ns: string, reason: string): KubeObject[] {
  return store.list(EVENTS, { namespace: ns }).items.filter((e) => e.reason === reason);
}

function createJob(name: string, spec: Record<string, unknown>, args: string[]): KubeObject {
  return store.create(JOBS, {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: NS },
    spec: {
      backoffLimit: 6,
      completions: 1,
      parallelism: 1,
      ...spec,
      template: {
        spec: {
          restartPolicy: 'Never',
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 100,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          containers: [
            {
              name: 'curl',
              image: 'curlimages/curl:8.11.1',
              args,
              securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
            },
          ],
        },
      },
    },
  });
}

function jobCondition(name: string, type: string): { reason?: string } | undefined {
  const job = store.get(JOBS, NS, name);
  return (job ? statusOf<{ conditions: Condition[] }>(job).conditions : undefined)?.find(
    (c) => c.type === type && c.status === 'True',
  );
}

beforeAll(async () => {
  if (!existsSync(serverEntry))
    await execa('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root, reject: false });
  for (const o of manifests()) {
    if (o.kind === 'Namespace') store.create(NAMESPACES, o);
    if (o.kind === 'Service') {
      const spec = specOf<ServiceSpec & { clusterIPs?: string[] }>(o);
      spec.clusterIP = CLUSTER_IP;
      spec.clusterIPs = [CLUSTER_IP];
      store.create(SERVICES, o);
    }
    if (o.kind === 'Deployment') {
      const web = specOf<DeploymentSpec>(o).template.spec.containers[0];
      if (web) web.image = 'multi-replica-app:test';
      store.create(DEPLOYMENTS, o);
    }
  }
  await runtime.start();
});

afterAll(async () => {
  await runtime.stop();
});

describe('nodes', () => {
  it('registers kind-named nodes with the control plane tainted and workers schedulable', () => {
    const nodes = store.list(NODES).items;
    expect(nodes.map((n) => n.metadata.name).sort()).toEqual([
      'replica-demo-control-plane',
      'replica-demo-worker',
      'replica-demo-worker2',
    ]);
    const cp = nodes.find((n) => n.metadata.name === 'replica-demo-control-plane');
    expect(cp ? specOf<{ taints?: unknown[] }>(cp).taints : undefined).toEqual([
      { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' },
    ]);
    expect(cp ? statusOf<{ addresses: unknown[] }>(cp).addresses?.[0] : undefined).toEqual({
      type: 'InternalIP',
      address: '127.0.0.2',
    });
    expect(
      cp
        ? statusOf<{ nodeInfo: { kubeletVersion: string } }>(cp).nodeInfo?.kubeletVersion
        : undefined,
    ).toMatch(new RegExp(`^v1\\.${KUBE_VERSION.minor}\\.`));
  });
});

describe('deployment of the lesson', () => {
  it('reaches 5 ready pods named like the real ones, with distinct IPs over several nodes', async () => {
    const pods = await waitFor('5 ready pods', () => readyWebPods(5));
    const rs = store.list(REPLICASETS, { namespace: NS }).items;
    expect(rs).toHaveLength(1);
    const hash = rs[0]?.metadata.labels?.['pod-template-hash'] ?? '';
    expect(rs[0]?.metadata.name).toBe(`web-server-deployment-${hash}`);
    expect(hash).toMatch(new RegExp(`^${SAFE}{1,10}$`));
    for (const p of pods) {
      expect(p.metadata.name).toMatch(new RegExp(`^web-server-deployment-${hash}-${SAFE}{5}$`));
      expect(p.metadata.ownerReferences?.[0]).toMatchObject({
        kind: 'ReplicaSet',
        controller: true,
      });
      // Inside this runtime's own address block, below the Service range.
      expect(podIP(p)).toMatch(new RegExp(`^127\\.${runtime.addressOctet}\\.\\d\\.\\d+$`));
    }
    expect(new Set(pods.map((p) => podIP(p))).size).toBe(5);
    const nodes = new Set(pods.map((p) => specOf<PodSpec>(p).nodeName ?? ''));
    expect(nodes.size).toBeGreaterThanOrEqual(2);
    expect(nodes.has('replica-demo-control-plane')).toBe(false);
    expect(pids(runtime)).toHaveLength(5);
  });

  it('reports Deployment status the way kubectl rollout status wants it', async () => {
    const d = await waitFor('deployment complete', () => {
      const x = store.get(DEPLOYMENTS, NS, 'web-server-deployment');
      return deployStatus(x).availableReplicas === 5 ? x : undefined;
    });
    expect(deployStatus(d)).toMatchObject({
      observedGeneration: d.metadata.generation,
      replicas: 5,
      updatedReplicas: 5,
      readyReplicas: 5,
      availableReplicas: 5,
    });
    const conditions = deployStatus(d).conditions ?? [];
    expect(conditions.find((c) => c.type === 'Available')).toMatchObject({
      status: 'True',
      reason: 'MinimumReplicasAvailable',
    });
    await waitFor('NewReplicaSetAvailable', () =>
      (deployStatus(store.get(DEPLOYMENTS, NS, 'web-server-deployment')).conditions ?? []).some(
        (c) => c.reason === 'NewReplicaSetAvailable',
      ),
    );
  });

  it('records the events the real components record', () => {
    const reasons = new Set(
      store
        .list(EVENTS, { namespace: NS })
        .items.map((e) => `${e.reason as string}/${(e.source as { component: string }).component}`),
    );
    for (const r of [
      'ScalingReplicaSet/deployment-controller',
      'SuccessfulCreate/replicaset-controller',
      'Scheduled/default-scheduler',
      'Pulled/kubelet',
      'Created/kubelet',
      'Started/kubelet',
    ]) {
      expect(reasons).toContain(r);
    }
    const pulled = events(NS, 'Pulled')[0];
    expect(pulled?.message).toBe(
      'Container image "multi-replica-app:test" already present on machine',
    );
  });

  it('keeps Endpoints with the ready pods on the named target port', () => {
    const ep = store.get(ENDPOINTS, NS, 'web-server-service');
    const subset = (
      ep?.subsets as { addresses: { ip: string }[]; ports: { name: string; port: number }[] }[]
    )[0];
    expect(subset?.ports).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }]);
    expect(subset?.addresses.map((a) => a.ip).sort()).toEqual(
      webPods()
        .map((p) => podIP(p))
        .sort(),
    );
  });
});

describe('service proxy', () => {
  it('spreads 200 fresh connections over all 5 pods, the same way for the same seed', async () => {
    await waitFor('5 ready pods', () => readyWebPods(5));
    await waitFor('5 ready endpoints', () => {
      const ep = store.get(ENDPOINTS, NS, 'web-server-service');
      const subsets = (ep?.subsets ?? []) as { addresses?: unknown[] }[];
      return subsets[0]?.addresses?.length === 5;
    });
    // The proxy hears of endpoints a moment after they change, as kube-proxy does.
    await new Promise((r) => setTimeout(r, 2 * ENDPOINTS_PROPAGATION_MS));
    const target = runtime.serviceTarget(NS, 'web-server-service', 80);
    expect(target?.host).toBe(CLUSTER_IP);
    const names: string[] = [];
    for (let i = 0; i < 200; i += 1)
      names.push(await get(`http://${target?.host}:${target?.port}/`, false));
    const counts = new Map<string, number>();
    for (const n of names) counts.set(n, (counts.get(n) ?? 0) + 1);
    expect([...counts.keys()].sort()).toEqual(
      webPods()
        .map((p) => p.metadata.name)
        .sort(),
    );
    // At random, not in turn: a fair split, and a fresh connection often lands where the last
    // one did (1 time in 5), which a round robin never does.
    expect(chiSquareEven([...counts.values()])!.pValue).toBeGreaterThan(0.001);
    const repeats = names.filter((n, i) => i > 0 && n === names[i - 1]).length;
    expect(repeats).toBeGreaterThan(10);

    // Two proxies with one seed over the same Endpoints pick the same sequence.
    const sequence = async (seed: string): Promise<string[]> => {
      const proxy = new ServiceProxy(store, seededRandom(seed), () => undefined);
      proxy.start();
      await new Promise((r) => setImmediate(r));
      await proxy.settled();
      const t = proxy.target(NS, 'web-server-service', 80);
      const out: string[] = [];
      for (let i = 0; i < 40; i += 1) out.push(await get(`http://${t?.host}:${t?.port}/`, false));
      await proxy.stop();
      return out;
    };
    const a = await sequence('fixed');
    const b = await sequence('fixed');
    expect(a).toEqual(b);
    expect(new Set(a).size).toBeGreaterThan(1);
  });

  it('keeps a kept-alive connection on one pod', async () => {
    const target = runtime.serviceTarget(NS, 'web-server-service', 80);
    const fresh: string[] = [];
    for (let i = 0; i < 20; i += 1)
      fresh.push(await get(`http://${target?.host}:${target?.port}/`, false));
    expect(new Set(fresh).size).toBeGreaterThan(1);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const names: string[] = [];
    for (let i = 0; i < 20; i += 1)
      names.push(await get(`http://${target?.host}:${target?.port}/`, agent));
    agent.destroy();
    expect(new Set(names).size).toBe(1);
  });

  it('pins each client address to one pod with sessionAffinity ClientIP', async () => {
    const before = runtime.serviceTarget(NS, 'web-server-service', 80);
    const unpinned: string[] = [];
    for (let i = 0; i < 15; i += 1)
      unpinned.push(await get(`http://${before?.host}:${before?.port}/`, false, '127.0.0.77'));
    expect(new Set(unpinned).size).toBeGreaterThan(1);
    store.update(SERVICES, NS, 'web-server-service', (s) => {
      const spec = specOf<ServiceSpec>(s);
      spec.sessionAffinity = 'ClientIP';
      spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: 10800 } };
    });
    await new Promise((r) => setTimeout(r, 50));
    const target = runtime.serviceTarget(NS, 'web-server-service', 80);
    for (const client of ['127.0.0.1', '127.0.0.77', '127.0.0.78']) {
      const names: string[] = [];
      for (let i = 0; i < 15; i += 1)
        names.push(await get(`http://${target?.host}:${target?.port}/`, false, client));
      expect(new Set(names).size).toBe(1);
    }
    store.update(SERVICES, NS, 'web-server-service', (s) => {
      const spec = specOf<ServiceSpec>(s);
      spec.sessionAffinity = 'None';
      delete spec.sessionAffinityConfig;
    });
  });
});

describe('pod lifecycle', () => {
  it('replaces a deleted pod with a new name; the old one leaves the endpoints before its process ends', async () => {
    const before = await waitFor('5 ready pods', () => readyWebPods(5));
    const victim = before[0] as KubeObject;
    const pidsBefore = new Set(pids(runtime));
    deletePod(store, victim);
    const gone = await waitFor('victim out of endpoints', () => {
      const ep = store.get(ENDPOINTS, NS, 'web-server-service');
      const ips =
        (ep?.subsets as { addresses?: { ip: string }[] }[] | undefined)
          ?.flatMap((s) => s.addresses ?? [])
          .map((a) => a.ip) ?? [];
      return !ips.includes(podIP(victim));
    });
    expect(gone).toBe(true);
    // preStop sleeps 5 s: the process is still there meanwhile.
    expect(store.get(PODS, NS, victim.metadata.name)).toBeDefined();
    const after = await waitFor('replacement ready', () => readyWebPods(5));
    expect(after.map((p) => p.metadata.name)).not.toContain(victim.metadata.name);
    await waitFor(
      'victim removed',
      () => store.get(PODS, NS, victim.metadata.name) === undefined,
      40_000,
    );
    const pidsAfter = pids(runtime);
    expect(pidsAfter).toHaveLength(5);
    const removedPid = [...pidsBefore].filter((p) => !pidsAfter.includes(p));
    expect(removedPid).toHaveLength(1);
    expect(alive(removedPid[0] as number)).toBe(false);
    expect(events(NS, 'Killing').some((e) => e.message === 'Stopping container web')).toBe(true);
  });

  it('stops a pod deleted with grace 0 as a kubelet does: after the proxy has stopped sending to it', async () => {
    const before = await waitFor('5 ready pods', () => readyWebPods(5));
    const victim = before[0] as KubeObject;
    const target = runtime.serviceTarget(NS, 'web-server-service', 80);
    const victimPid = pids(runtime).find((pid) => {
      try {
        return readFileSync(`/proc/${pid}/environ`, 'utf8').includes(victim.metadata.name);
      } catch {
        return false;
      }
    });
    expect(victimPid).toBeDefined();
    const deletedAt = Date.now();
    deletePod(store, victim, 0);
    // Gone from the API at once: nothing waits for its process.
    expect(store.get(PODS, NS, victim.metadata.name)).toBeUndefined();
    const answers: { at: number; pod: string }[] = [];
    let failed = 0;
    while (Date.now() - deletedAt < 1500) {
      await get(`http://${target?.host}:${target?.port}/`, false).then(
        (pod) => answers.push({ at: Date.now() - deletedAt, pod }),
        () => (failed += 1),
      );
    }
    // The proxy heard of it within its propagation delay; the process still ran then.
    const lastToVictim = Math.max(
      -1,
      ...answers.filter((a) => a.pod === victim.metadata.name).map((a) => a.at),
    );
    expect(lastToVictim).toBeLessThan(ENDPOINTS_PROPAGATION_MS + 100);
    expect(failed).toBe(0);
    expect(answers.length).toBeGreaterThan(50);
    // SIGTERM about a second after the deletion, without the 5 s preStop sleep.
    const stoppedAt = await waitFor('victim process ended', () =>
      alive(victimPid!) ? undefined : Date.now() - deletedAt,
    );
    expect(stoppedAt).toBeGreaterThanOrEqual(FORCED_STOP_DELAY_MS);
    expect(stoppedAt).toBeLessThan(FORCED_STOP_DELAY_MS + 2500);
    // Every pod has served a request again, as the tests after this one expect.
    for (const pod of await waitFor('replacement ready', () => readyWebPods(5)))
      await get(`http://${podIP(pod)}:8080/`, false);
  });

  it('notices a crash at its next relist: the pod not Ready, the container restarted in it, Ready again', async () => {
    const before = await waitFor('5 ready pods', () => readyWebPods(5));
    const victim = before[1] as KubeObject;
    const { name, uid } = victim.metadata;
    const seen: { at: number; ready: boolean; status: ContainerStatus }[] = [];
    const unwatch = store.watch(PODS, { namespace: NS }, (e) => {
      const c = podStatus(e.object).containerStatuses?.[0];
      if (e.object.metadata.name === name && c)
        seen.push({ at: Date.now(), ready: isPodReady(e.object), status: structuredClone(c) });
    });
    const target = runtime.serviceTarget(NS, 'web-server-service', 80);
    try {
      // Through the Service the server refuses: the proxy is not the pod.
      const viaService = await post(`http://${target?.host}:${target?.port}/crash`);
      expect(viaService.status).toBe(403);
      // From the pod's own address, as the port-forward connects: it crashes.
      const crashedAt = Date.now();
      const answer = await post(`http://${podIP(victim)}:8080/crash`, podIP(victim));
      expect(answer.status).toBe(202);
      const readyAgain = await waitFor(
        'the crashed pod Ready again',
        () => seen.find((s) => s.ready && s.status.restartCount === 1),
        20_000,
      );
      const notReady = seen.find((s) => !s.ready);
      const restarted = seen.find((s) => s.status.restartCount === 1);
      // The kubelet noticed at its next relist, within a second, and reported the exit first.
      expect(notReady!.at - crashedAt).toBeLessThan(RELIST_PERIOD_MS + 200);
      expect(notReady!.status.state.terminated).toMatchObject({ exitCode: 1, reason: 'Error' });
      expect(notReady!.status.restartCount).toBe(0);
      // Then it ran the container again in the same pod, reported at the relist after.
      expect(restarted!.at).toBeGreaterThan(notReady!.at);
      expect(restarted!.status.state.running).toBeDefined();
      expect(restarted!.status.lastState.terminated).toMatchObject({
        exitCode: 1,
        reason: 'Error',
      });
      expect(readyAgain.at).toBeGreaterThanOrEqual(restarted!.at);
      const pod = store.mustGet(PODS, NS, name);
      expect(pod.metadata.uid).toBe(uid);
      expect(podIP(pod)).toBe(podIP(victim));
      expect(webPods()).toHaveLength(5);
      // A second crash soon after waits in CrashLoopBackOff, 10 s the first time.
      expect((await post(`http://${podIP(victim)}:8080/crash`, podIP(victim))).status).toBe(202);
      const backOff = await waitFor('CrashLoopBackOff', () =>
        seen.find((s) => s.status.state.waiting?.reason === 'CrashLoopBackOff'),
      );
      expect(backOff.status.state.waiting?.message).toMatch(/^back-off 10s restarting failed/);
      expect(backOff.ready).toBe(false);
    } finally {
      unwatch();
    }
    // Replaced afresh, so the tests after this one find 5 ready pods with no back-off.
    deletePod(store, store.mustGet(PODS, NS, name), 0);
    await waitFor('5 ready pods again', () => readyWebPods(5));
  });

  it("serves the container log with the server's request lines", () => {
    const pod = webPods()[0] as KubeObject;
    const text = runtime.logs.read(NS, pod.metadata.name, undefined, {});
    expect(text).toMatch(new RegExp(`Request received by ${pod.metadata.name} \\(Replica `));
    const stamped = runtime.logs.read(NS, pod.metadata.name, 'web', {
      tailLines: 1,
      timestamps: true,
    });
    expect(stamped.split('\n').filter(Boolean)).toHaveLength(1);
    expect(stamped).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z /);
    expect(() => runtime.logs.read(NS, 'nope', undefined, {})).toThrow(/pods "nope" not found/);
    expect(() => runtime.logs.read(NS, pod.metadata.name, 'web', { previous: true })).toThrow(
      /previous terminated container "web"/,
    );
  });

  it('follows a container log as requests arrive', async () => {
    const pod = webPods()[0] as KubeObject;
    const chunks: string[] = [];
    const f = runtime.logs.follow(NS, pod.metadata.name, undefined, { tailLines: 0 }, (t) =>
      chunks.push(t),
    );
    await get(`http://${podIP(pod)}:8080/`, false);
    await waitFor('followed line', () => chunks.join('').includes('Request received by'));
    f.stop();
    await f.done;
    expect(chunks.join('')).toMatch(new RegExp(`Request received by ${pod.metadata.name} `));
  });

  it('scales down to 3, keeping 3 pods and 3 processes', async () => {
    store.update(DEPLOYMENTS, NS, 'web-server-deployment', (d) => {
      specOf<DeploymentSpec>(d).replicas = 3;
    });
    await waitFor('3 pods', () => readyWebPods(3));
    await waitFor('3 processes', () => pids(runtime).length === 3, 40_000);
    expect(events(NS, 'SuccessfulDelete')).toHaveLength(2);
    const d = await waitFor('status 3', () => {
      const x = store.get(DEPLOYMENTS, NS, 'web-server-deployment');
      return deployStatus(x).replicas === 3 && deployStatus(x).availableReplicas === 3
        ? x
        : undefined;
    });
    expect(deployStatus(d).updatedReplicas).toBe(3);
  });

  it('releases a relabelled pod and replaces it, as the real ReplicaSet does', async () => {
    const pod = (await waitFor('3 ready pods', () => readyWebPods(3)))[0] as KubeObject;
    store.update(PODS, NS, pod.metadata.name, (o) => {
      o.metadata.labels = { ...o.metadata.labels, app: 'quarantine' };
    });
    await waitFor('released', () => {
      const p = store.get(PODS, NS, pod.metadata.name);
      return p !== undefined && (p.metadata.ownerReferences ?? []).length === 0;
    });
    const after = await waitFor('replacement', () => readyWebPods(3));
    expect(after.map((p) => p.metadata.name)).not.toContain(pod.metadata.name);
    // Still running, outside the set: the lesson's way to take a pod out for a look.
    expect(isPodReady(store.mustGet(PODS, NS, pod.metadata.name))).toBe(true);
    deletePod(store, pod, 0);
  });

  it('rolls out a template change to a new ReplicaSet and keeps the old one at 0', async () => {
    const oldRs = store.list(REPLICASETS, { namespace: NS }).items[0] as KubeObject;
    const d = store.update(DEPLOYMENTS, NS, 'web-server-deployment', (o) => {
      const t = specOf<DeploymentSpec>(o).template;
      t.metadata = {
        ...t.metadata,
        annotations: { 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() },
      };
    });
    const newHash = podTemplateHash(specOf<DeploymentSpec>(d).template);
    expect(newHash).not.toBe(oldRs.metadata.labels?.['pod-template-hash']);
    await waitFor(
      'rollout done',
      () => {
        const pods = readyWebPods(3);
        const x = store.get(DEPLOYMENTS, NS, 'web-server-deployment');
        return (
          pods?.every((p) => p.metadata.labels?.['pod-template-hash'] === newHash) &&
          deployStatus(x).replicas === 3 &&
          deployStatus(x).updatedReplicas === 3
        );
      },
      60_000,
    );
    const all = store.list(REPLICASETS, { namespace: NS }).items;
    expect(all).toHaveLength(2);
    const old = all.find((r) => r.metadata.uid === oldRs.metadata.uid);
    expect(old ? specOf<ReplicaSetSpec>(old).replicas : undefined).toBe(0);
    const fresh = all.find((r) => r.metadata.uid !== oldRs.metadata.uid);
    expect(fresh?.metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('2');
    expect(events(NS, 'ScalingReplicaSet').map((e) => e.message)).toContain(
      `Scaled up replica set web-server-deployment-${newHash} from 0 to 1`,
    );
  });
});

describe('pod security admission', () => {
  it('refuses a violating pod with the real message', () => {
    const pod: NewObject = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'bad', namespace: NS },
      spec: { containers: [{ name: 'c', image: 'multi-replica-app:test' }] },
    };
    expect(() => admitPod(store, pod)).toThrow(
      /^pods "bad" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false \(container "c" must set securityContext.allowPrivilegeEscalation=false\), /,
    );
  });

  it('leaves a Deployment with a violating template at 0 pods with a FailedCreate event', async () => {
    store.create(DEPLOYMENTS, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'insecure', namespace: NS },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'insecure' } },
        template: {
          metadata: { labels: { app: 'insecure' } },
          spec: { containers: [{ name: 'web', image: 'multi-replica-app:test' }] },
        },
      },
    });
    const failed = await waitFor('FailedCreate', () => {
      const e = events(NS, 'FailedCreate');
      return e.length > 0 ? e : undefined;
    });
    expect(failed[0]?.message).toMatch(
      /^Error creating: pods "insecure-\w+-\w{5}" is forbidden: violates PodSecurity "restricted:latest": /,
    );
    expect((failed[0]?.source as { component: string }).component).toBe('replicaset-controller');
    expect(store.list(PODS, { namespace: NS, labelSelector: 'app=insecure' }).items).toHaveLength(
      0,
    );
    store.remove(DEPLOYMENTS, NS, 'insecure');
    await waitFor('insecure RS collected', () =>
      store
        .list(REPLICASETS, { namespace: NS })
        .items.every((r) => !r.metadata.name.startsWith('insecure')),
    );
  });
});

describe('jobs', () => {
  it('runs the blast curl Job to completion with one log line per request', async () => {
    createJob('blast', {}, [
      '-sS',
      '-o',
      '/dev/null',
      '-H',
      'Connection: close',
      '-w',
      '%{http_code} %{time_total} %header{x-pod-name}\n',
      'http://web-server-service/?n=[1-20]',
    ]);
    await waitFor('blast complete', () => jobCondition('blast', 'Complete'), 30_000);
    const pod = store.list(PODS, { namespace: NS, labelSelector: 'job-name=blast' })
      .items[0] as KubeObject;
    expect(pod.metadata.name).toMatch(new RegExp(`^blast-${SAFE}{5}$`));
    expect(podStatus(pod).phase).toBe('Succeeded');
    const lines = runtime.logs
      .read(NS, pod.metadata.name, undefined, {})
      .split('\n')
      .filter(Boolean);
    expect(lines).toHaveLength(20);
    const names = new Set(webPods().map((p) => p.metadata.name));
    for (const l of lines) {
      const [code, , name] = l.split(' ');
      expect(code).toBe('200');
      expect(names.has(name ?? '')).toBe(true);
    }
    expect(jobCondition('blast', 'SuccessCriteriaMet')?.reason).toBe('CompletionsReached');
    expect(store.get(JOBS, NS, 'blast')?.status).toMatchObject({ succeeded: 1 });
    expect(events(NS, 'Completed').some((e) => e.message === 'Job completed')).toBe(true);
  });

  it('fails after backoffLimit failed pods', async () => {
    createJob('refused', { backoffLimit: 1 }, ['-sS', '--fail', 'http://127.0.0.1:1/']);
    const c = await waitFor('refused failed', () => jobCondition('refused', 'Failed'), 30_000);
    expect(c.reason).toBe('BackoffLimitExceeded');
    const pods = store.list(PODS, { namespace: NS, labelSelector: 'job-name=refused' }).items;
    expect(pods).toHaveLength(2);
    for (const p of pods) {
      expect(podStatus(p).phase).toBe('Failed');
      expect(podStatus(p).containerStatuses?.[0]?.state.terminated?.exitCode).toBe(7);
    }
  });

  it('fails at activeDeadlineSeconds and stops the pod', async () => {
    // A listener that accepts and never answers keeps curl waiting.
    const silent = net.createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      createJob('slow', { activeDeadlineSeconds: 2 }, ['-sS', `http://127.0.0.1:${port}/`]);
      const c = await waitFor('slow failed', () => jobCondition('slow', 'Failed'), 20_000);
      expect(c.reason).toBe('DeadlineExceeded');
      expect(
        store.list(PODS, { namespace: NS, labelSelector: 'job-name=slow' }).items,
      ).toHaveLength(0);
      expect(events(NS, 'DeadlineExceeded')).toHaveLength(1);
    } finally {
      silent.close();
    }
  });

  it('deletes a finished Job and its pods after ttlSecondsAfterFinished', async () => {
    createJob('brief', { ttlSecondsAfterFinished: 1 }, [
      '-sS',
      '-o',
      '/dev/null',
      'http://web-server-service/',
    ]);
    await waitFor('brief complete', () => jobCondition('brief', 'Complete'), 20_000);
    await waitFor('brief gone', () => store.get(JOBS, NS, 'brief') === undefined, 10_000);
    await waitFor(
      'brief pods gone',
      () => store.list(PODS, { namespace: NS, labelSelector: 'job-name=brief' }).items.length === 0,
    );
  });
});

describe('images', () => {
  it('leaves an unknown image Waiting with ErrImagePull and runs nothing', async () => {
    const before = pids(runtime).length;
    store.create(PODS, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'nginx', namespace: 'default' },
      spec: { containers: [{ name: 'nginx', image: 'nginx:1.27' }] },
    });
    store.create(NAMESPACES, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'default' },
    });
    const pod = await waitFor('ErrImagePull', () => {
      const p = store.get(PODS, 'default', 'nginx');
      return p && podStatus(p).containerStatuses?.[0]?.state.waiting?.reason === 'ErrImagePull'
        ? p
        : undefined;
    });
    expect(podStatus(pod).phase).toBe('Pending');
    expect(podStatus(pod).containerStatuses?.[0]?.state.waiting?.message).toMatch(
      /runs only multi-replica-app/,
    );
    expect(pids(runtime).length).toBe(before);
    expect(() => runtime.logs.read('default', 'nginx', undefined, {})).toThrow(
      /waiting to start: trying and failing to pull image/,
    );
  });
});

describe('init containers', () => {
  it("runs init containers to completion before the pod's containers", async () => {
    store.create(PODS, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'with-init', namespace: 'default' },
      spec: {
        initContainers: [{ name: 'check', image: 'curlimages/curl:8.11.1', args: ['--version'] }],
        containers: [
          { name: 'web', image: 'multi-replica-app:test', ports: [{ containerPort: 8080 }] },
        ],
      },
    });
    const pod = await waitFor('with-init ready', () => {
      const p = store.get(PODS, 'default', 'with-init');
      return p && isPodReady(p) ? p : undefined;
    });
    const init = statusOf<{ initContainerStatuses: ContainerStatus[] }>(pod).initContainerStatuses;
    expect(init?.[0]?.state.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    expect(runtime.logs.read('default', 'with-init', 'check', {})).toMatch(/^curl \d/);
    deletePod(store, pod, 0);
    await waitFor('with-init removed', () => store.get(PODS, 'default', 'with-init') === undefined);
  });

  it('fails a never-restarting pod whose init container fails, and never starts the rest', async () => {
    store.create(PODS, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'bad-init', namespace: 'default' },
      spec: {
        restartPolicy: 'Never',
        initContainers: [
          {
            name: 'check',
            image: 'curlimages/curl:8.11.1',
            args: ['-sS', '--fail', 'http://127.0.0.1:1/'],
          },
        ],
        containers: [{ name: 'web', image: 'multi-replica-app:test' }],
      },
    });
    const pod = await waitFor('bad-init failed', () => {
      const p = store.get(PODS, 'default', 'bad-init');
      return p && podStatus(p).phase === 'Failed' ? p : undefined;
    });
    expect(podStatus(pod).containerStatuses?.[0]?.state.waiting?.reason).toBe('PodInitializing');
    store.remove(PODS, 'default', 'bad-init');
  });
});

describe('probes and garbage collection', () => {
  it('marks a pod unready on failed readiness and restarts it on failed liveness', async () => {
    const probe = (path: string, failureThreshold: number) => ({
      httpGet: { path, port: 'http' },
      periodSeconds: 1,
      failureThreshold,
    });
    store.create(PODS, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'sick', namespace: 'default' },
      spec: {
        restartPolicy: 'Always',
        containers: [
          {
            name: 'web',
            image: 'multi-replica-app:test',
            ports: [{ name: 'http', containerPort: 8080 }],
            readinessProbe: probe('/nope', 1),
            livenessProbe: { ...probe('/gone', 2), initialDelaySeconds: 1 },
          },
        ],
      },
    });
    const restarted = await waitFor(
      'a liveness restart',
      () => {
        const p = store.get(PODS, 'default', 'sick');
        return p && (podStatus(p).containerStatuses?.[0]?.restartCount ?? 0) >= 1 ? p : undefined;
      },
      20_000,
    );
    expect(isPodReady(restarted)).toBe(false);
    const messages = store.list(EVENTS, { namespace: 'default' }).items.map((e) => e.message);
    expect(messages).toContain('Readiness probe failed: HTTP probe failed with statuscode: 404');
    expect(messages).toContain('Liveness probe failed: HTTP probe failed with statuscode: 404');
    expect(messages).toContain('Container web failed liveness probe, will be restarted');
    expect(podStatus(restarted).containerStatuses?.[0]?.lastState.terminated).toBeDefined();
    deletePod(store, restarted, 0);
    await waitFor('sick pod removed', () => store.get(PODS, 'default', 'sick') === undefined);
  });

  it('takes back an orphaned ReplicaSet when the Deployment returns', async () => {
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'orphans', namespace: 'default' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'orphans' } },
        template: {
          metadata: { labels: { app: 'orphans' } },
          spec: {
            containers: [
              { name: 'web', image: 'multi-replica-app:test', ports: [{ containerPort: 8080 }] },
            ],
          },
        },
      },
    };
    store.create(DEPLOYMENTS, deployment);
    const pod = await waitFor('orphans pod ready', () =>
      store
        .list(PODS, { namespace: 'default', labelSelector: 'app=orphans' })
        .items.find(isPodReady),
    );
    const rsName = pod.metadata.ownerReferences?.[0]?.name ?? '';
    // A Deployment of no replicas, removed the ordinary way next to the orphaning delete: once
    // the garbage collector has removed its ReplicaSet, it has had its chance at the orphan.
    const control = {
      ...deployment,
      metadata: { name: 'collected', namespace: 'default' },
      spec: {
        ...deployment.spec,
        replicas: 0,
        selector: { matchLabels: { app: 'collected' } },
        template: { ...deployment.spec.template, metadata: { labels: { app: 'collected' } } },
      },
    };
    store.create(DEPLOYMENTS, control);
    const collectedRs = () =>
      store.list(REPLICASETS, { namespace: 'default', labelSelector: 'app=collected' }).items;
    await waitFor('the second ReplicaSet', () => collectedRs().length === 1);
    // Anything that deletes the orphans, now or later, shows here.
    const deletions: string[] = [];
    const record =
      (kind: string, uid: string | undefined) => (e: { type: string; object: KubeObject }) => {
        if (e.object.metadata.uid !== uid) return;
        if (e.type === 'DELETED' || e.object.metadata.deletionTimestamp)
          deletions.push(`${kind} ${e.type}`);
      };
    const orphanRs = store.get(REPLICASETS, 'default', rsName);
    const unwatch = [
      store.watch(PODS, {}, record('pod', pod.metadata.uid)),
      store.watch(REPLICASETS, {}, record('replicaset', orphanRs?.metadata.uid)),
    ];
    // An orphaning delete: the API strips the owner references, then removes the owner.
    store.update(REPLICASETS, 'default', rsName, (o) => {
      o.metadata.ownerReferences = [];
    });
    store.remove(DEPLOYMENTS, 'default', 'orphans');
    store.remove(DEPLOYMENTS, 'default', 'collected');
    await waitFor('the garbage collector to remove the owned ReplicaSet', () =>
      collectedRs().length === 0 ? true : undefined,
    );
    // The orphans stay: the ReplicaSet, and its pod, which is not even terminating.
    expect(store.get(REPLICASETS, 'default', rsName)?.metadata.deletionTimestamp).toBeUndefined();
    expect(store.get(REPLICASETS, 'default', rsName)).toBeDefined();
    const kept = store.get(PODS, 'default', pod.metadata.name);
    expect(kept).toBeDefined();
    expect(kept?.metadata.deletionTimestamp).toBeUndefined();
    const again = store.create(DEPLOYMENTS, deployment);
    await waitFor('adopted', () =>
      store
        .get(REPLICASETS, 'default', rsName)
        ?.metadata.ownerReferences?.some((r) => r.uid === again.metadata.uid),
    );
    expect(store.list(REPLICASETS, { namespace: 'default' }).items).toHaveLength(1);
    // The returning Deployment counts the very pod it had, and made no other.
    await waitFor('the Deployment ready again', () =>
      deployStatus(store.get(DEPLOYMENTS, 'default', 'orphans')).readyReplicas === 1
        ? true
        : undefined,
    );
    expect(
      store
        .list(PODS, { namespace: 'default', labelSelector: 'app=orphans' })
        .items.map((p) => p.metadata.uid),
    ).toEqual([pod.metadata.uid]);
    for (const u of unwatch) u();
    expect(deletions).toEqual([]);
    store.remove(DEPLOYMENTS, 'default', 'orphans');
    await waitFor(
      'orphans collected',
      () => store.list(REPLICASETS, { namespace: 'default' }).items.length === 0,
    );
  });

  it('deletes dependents first in foreground deletion, then the owner', async () => {
    const d = store.create(DEPLOYMENTS, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'fg', namespace: 'default' },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'fg' } },
        strategy: {
          type: 'RollingUpdate',
          rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' },
        },
        template: {
          metadata: { labels: { app: 'fg' } },
          spec: {
            terminationGracePeriodSeconds: 1,
            containers: [
              {
                name: 'web',
                image: 'multi-replica-app:test',
                ports: [{ containerPort: 8080 }],
                // Keeps the pods terminating for a moment, long enough to see the owner wait.
                lifecycle: { preStop: { sleep: { seconds: 1 } } },
              },
            ],
          },
        },
      },
    });
    await waitFor('2 ready fg pods', () => {
      const pods = store.list(PODS, { namespace: 'default', labelSelector: 'app=fg' }).items;
      return pods.length === 2 && pods.every(isPodReady);
    });
    store.update(DEPLOYMENTS, 'default', 'fg', (o) => {
      o.metadata.deletionTimestamp = store.timestamp();
      o.metadata.finalizers = ['foregroundDeletion'];
    });
    // While dependents remain, the owner is still there.
    await waitFor('pods terminating', () =>
      store
        .list(PODS, { namespace: 'default', labelSelector: 'app=fg' })
        .items.every((p) => p.metadata.deletionTimestamp !== undefined),
    );
    expect(store.get(DEPLOYMENTS, 'default', 'fg')?.metadata.uid).toBe(d.metadata.uid);
    await waitFor('fg gone', () => store.get(DEPLOYMENTS, 'default', 'fg') === undefined, 20_000);
    expect(store.list(PODS, { namespace: 'default', labelSelector: 'app=fg' }).items).toHaveLength(
      0,
    );
    expect(store.list(REPLICASETS, { namespace: 'default' }).items).toHaveLength(0);
  });
});

describe('shutdown', () => {
  it('ends every process of a deleted namespace, then removes the namespace', async () => {
    const running = pids(runtime);
    expect(running.length).toBeGreaterThan(0);
    store.update(NAMESPACES, undefined, NS, (n) => {
      n.metadata.deletionTimestamp = store.timestamp();
      n.status = { phase: 'Terminating' };
      n.spec = { finalizers: ['kubernetes'] };
    });
    await waitFor(
      'namespace gone',
      () => store.get(NAMESPACES, undefined, NS) === undefined,
      40_000,
    );
    expect(store.list(PODS, { namespace: NS }).items).toHaveLength(0);
    expect(store.list(DEPLOYMENTS, { namespace: NS }).items).toHaveLength(0);
    for (const pid of running) expect(alive(pid)).toBe(false);
  });

  it('takes its pod processes down with it when the daemon process is killed', async () => {
    const child = execa(
      process.execPath,
      ['--import', 'tsx', join(root, 'test/fixtures/runtime-child.ts'), serverEntry],
      { cwd: root, reject: false, buffer: false },
    );
    let out = '';
    child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
    const pid = Number(await waitFor('child pod pid', () => /^(\d+|none)\n/.exec(out)?.[1]));
    expect(Number.isInteger(pid)).toBe(true);
    expect(alive(pid)).toBe(true);
    child.kill('SIGKILL');
    await child;
    await waitFor('pod process gone', () => !alive(pid), 5000);
  });

  it('leaves no process behind after stop', async () => {
    store.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'again' } });
    store.create(PODS, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web', namespace: 'again' },
      spec: {
        containers: [
          { name: 'web', image: 'multi-replica-app:test', ports: [{ containerPort: 8080 }] },
        ],
      },
    });
    const pid = await waitFor('a running pod', () => pids(runtime)[0]);
    expect(alive(pid)).toBe(true);
    await runtime.stop();
    expect(alive(pid)).toBe(false);
    expect(pids(runtime)).toHaveLength(0);
  });
});
