import https from 'node:https';
import http from 'node:http';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import {
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  KubeConfig,
  Log,
  PolicyV1Api,
  PortForward,
  Watch,
  type V1Job,
  type V1Pod,
} from '@kubernetes/client-node';
import { eventually, startTestSim, type TestSim } from './helpers/sim.js';

/** The embedded cluster through @kubernetes/client-node 1.4, as the CLI's kube/ layer uses it. */

const NS = 'multi-replica-web';
const manifestsDir = new URL('../manifests/', import.meta.url);

let sim: TestSim;
let kc: KubeConfig;
let core: CoreV1Api;
let batch: BatchV1Api;

function manifest(file: string): Record<string, unknown> {
  const docs = parseAllDocuments(readFileSync(fileURLToPath(new URL(file, manifestsDir)), 'utf8'));
  return docs[0]?.toJS() as Record<string, unknown>;
}

const isReady = (p: V1Pod) =>
  !p.metadata?.deletionTimestamp &&
  (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

async function readyPods(): Promise<V1Pod[]> {
  const list = await core.listNamespacedPod({ namespace: NS, labelSelector: 'app=web-server' });
  return list.items.filter(isReady);
}

function get(
  port: number,
  path: string,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: '127.0.0.1', port, path, headers: { Connection: 'close' }, agent: false },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('request timed out')));
  });
}

function blastJob(name: string, count: number, namespace = NS): V1Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace },
    spec: {
      backoffLimit: 0,
      template: {
        spec: {
          restartPolicy: 'Never',
          automountServiceAccountToken: false,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 100,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          containers: [
            {
              name: 'curl',
              image: 'curlimages/curl:8.11.1',
              args: [
                '-sS',
                '-o',
                '/dev/null',
                '-H',
                'Connection: close',
                '-w',
                '%{http_code} %{time_total} %header{x-pod-name}\\n',
                `http://web-server-service/?n=[1-${count}]`,
              ],
              securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
            },
          ],
        },
      },
    },
  };
}

describe('the embedded cluster through client-node', () => {
  beforeAll(async () => {
    sim = await startTestSim({ nodes: 3, seed: 'client-node' });
    kc = new KubeConfig();
    kc.loadFromFile(sim.kubeconfigPath);
    core = kc.makeApiClient(CoreV1Api);
    batch = kc.makeApiClient(BatchV1Api);
  });

  afterAll(async () => {
    if (!sim) return;
    const left = await sim.stop();
    expect(left).toEqual([]);
  });

  it('answers 401 without the token', async () => {
    const ca = kc.getCurrentCluster()?.caData ?? '';
    const status = await new Promise<number>((resolve, reject) => {
      https
        .get(
          {
            host: '127.0.0.1',
            port: sim.port,
            path: '/api/v1/pods',
            ca: Buffer.from(ca, 'base64'),
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        )
        .on('error', reject);
    });
    expect(status).toBe(401);
  });

  it('watch sees the five replicas become ready', async () => {
    const ready = new Set<string>();
    const watch = new Watch(kc);
    const allReady = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${ready.size} ready`)), 90_000);
      void watch
        .watch(
          `/api/v1/namespaces/${NS}/pods`,
          { labelSelector: 'app=web-server' },
          (_type, pod: V1Pod) => {
            if (isReady(pod)) ready.add(pod.metadata?.name ?? '');
            if (ready.size >= 5) {
              clearTimeout(timer);
              resolve();
            }
          },
          (err) => {
            if (err && ready.size < 5) reject(err as Error);
          },
        )
        // The test awaits allReady itself; this chain only ends the watch.
        .then((controller) => allReady.finally(() => controller.abort()).catch(() => undefined));
    });
    await core.createNamespace({ body: manifest('00-namespace.yaml') });
    await kc
      .makeApiClient(AppsV1Api)
      .createNamespacedDeployment({ namespace: NS, body: manifest('10-deployment.yaml') });
    await core.createNamespacedService({ namespace: NS, body: manifest('20-service.yaml') });
    await kc
      .makeApiClient(PolicyV1Api)
      .createNamespacedPodDisruptionBudget({ namespace: NS, body: manifest('30-pdb.yaml') });
    await allReady;
    expect(ready.size).toBe(5);
  }, 120_000);

  it('port-forward reaches one pod, and its followed log shows each request', async () => {
    const pod = (await readyPods())[0];
    const name = pod?.metadata?.name ?? '';
    const logText = new PassThrough();
    let followed = '';
    logText.on('data', (c: Buffer) => (followed += c.toString()));
    const follow = await new Log(kc).log(NS, name, 'web', logText, { follow: true, tailLines: 0 });
    const forward = new PortForward(kc);
    const server = net.createServer((socket) => {
      void forward.portForward(NS, name, [8080], socket, null, socket);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      for (let i = 0; i < 4; i += 1) {
        const res = await get(port, '/');
        expect(res.status).toBe(200);
        expect(res.headers['x-pod-name']).toBe(name);
        const body = JSON.parse(res.body) as { pod_name: string; hostname: string };
        expect(body.pod_name).toBe(name);
        // A pod's hostname is its name, as in a real pod, not the machine's.
        expect(body.hostname).toBe(name);
      }
      await eventually(
        () =>
          Promise.resolve(
            (followed.match(/Request received by/g) ?? []).length >= 4 ? true : undefined,
          ),
        10_000,
        'four followed log lines',
      );
      expect(followed).toContain(`Request received by ${name} (Replica ${name.split('-').pop()})`);
    } finally {
      server.close();
      follow.abort();
    }
  }, 60_000);

  it('a curl Job runs the blast command to completion with one log line per request', async () => {
    await batch.createNamespacedJob({ namespace: NS, body: blastJob('blast-client', 12) });
    const job = await eventually(
      async () => {
        const j = await batch.readNamespacedJob({ name: 'blast-client', namespace: NS });
        const done = (j.status?.conditions ?? []).find(
          (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
        );
        return done ? j : undefined;
      },
      60_000,
      'the Job to finish',
    );
    expect(job.status?.conditions?.some((c) => c.type === 'Complete' && c.status === 'True')).toBe(
      true,
    );
    const jobPods = await core.listNamespacedPod({
      namespace: NS,
      labelSelector: 'job-name=blast-client',
    });
    const podName = jobPods.items[0]?.metadata?.name ?? '';
    const log = await core.readNamespacedPodLog({ name: podName, namespace: NS });
    const lines = log.trim().split('\n');
    expect(lines).toHaveLength(12);
    for (const line of lines)
      expect(line).toMatch(/^200 [\d.]+ web-server-deployment-[a-z0-9]+-[a-z0-9]{5}$/);
  }, 90_000);

  it('does not run an unknown image: the container waits with ErrImagePull', async () => {
    const before = sim.children().length;
    await core.createNamespace({ body: { metadata: { name: 'plain' } } });
    await core.createNamespacedPod({
      namespace: 'plain',
      body: {
        metadata: { name: 'nginx' },
        spec: { containers: [{ name: 'nginx', image: 'nginx:1.27' }] },
      },
    });
    // As on a node whose registry lacks the image: ErrImagePull, then ImagePullBackOff.
    const waiting = await eventually(
      async () => {
        const p = await core.readNamespacedPod({ name: 'nginx', namespace: 'plain' });
        const w = p.status?.containerStatuses?.[0]?.state?.waiting;
        return w?.reason === 'ImagePullBackOff' ? w : undefined;
      },
      20_000,
      'ImagePullBackOff',
    );
    expect(waiting.message).toMatch(
      /^Back-off pulling image "nginx:1\.27": ErrImagePull: .*multi-replica-app/,
    );
    const events = await core.listNamespacedEvent({
      namespace: 'plain',
      fieldSelector: 'involvedObject.name=nginx',
    });
    const said = events.items.map((e) => `${e.reason ?? ''}: ${e.message ?? ''}`);
    expect(said).toContain('Failed: Error: ErrImagePull');
    expect(said).toContain('BackOff: Back-off pulling image "nginx:1.27"');
    expect(said).toContain('Failed: Error: ImagePullBackOff');
    const p = await core.readNamespacedPod({ name: 'nginx', namespace: 'plain' });
    expect(p.status?.phase).toBe('Pending');
    expect(sim.children().length).toBeLessThanOrEqual(before);
  }, 40_000);
});
