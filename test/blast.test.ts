import * as k8s from '@kubernetes/client-node';
import chisquareCdf from '@stdlib/stats-base-dists-chisquare-cdf';
import { execa } from 'execa';
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, requireKubectl } from './helpers/sim.js';
import {
  countPodsCreated,
  NAMESPACE,
  startLab,
  tableRows,
  waitForPod,
  type Lab,
} from './blast-support.js';

interface JsonPod {
  pod: string;
  replicaId: string;
  node: string;
  count: number;
}
interface BlastJson {
  count: number;
  service: null | {
    total: number;
    errors: number;
    pods: JsonPod[];
    latencyMs: { p50: number; p95: number; max: number } | null;
    chiSquare: { statistic: number; pValue: number } | null;
    podsCreated: number;
  };
  portForward: null | { pod: string; total: number; errors: number; pods: JsonPod[] };
}

await requireKubectl();
let lab: Lab;
let readyPods: string[] = [];

async function blastJson(args: string[]): Promise<BlastJson> {
  const result = await lab.run(['blast', '--json', ...args]);
  expect(result.stderr, result.stderr).not.toMatch(/^Error/m);
  expect(result.exitCode).toBe(0);
  // Exactly one JSON object and nothing else on stdout.
  expect(result.stdout.trim().split('\n')).toHaveLength(1);
  return JSON.parse(result.stdout) as BlastJson;
}

/**
 * Pearson's chi-square against an even split, and its p-value, worked out here from the counts
 * alone: what blast reports must agree with its own histogram.
 */
function chiSquareOf(counts: number[]): { statistic: number; pValue: number } {
  const n = counts.reduce((a, b) => a + b, 0);
  const expected = n / counts.length;
  const statistic = counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
  return { statistic, pValue: 1 - chisquareCdf(statistic, counts.length - 1) };
}

async function blastObjects(): Promise<{ jobs: number; pods: number }> {
  const { core, batch } = lab.clients();
  const selector = 'app.kubernetes.io/component=blast';
  const jobs = await batch.listNamespacedJob({ namespace: NAMESPACE, labelSelector: selector });
  const pods = await core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: selector });
  return { jobs: jobs.items.length, pods: pods.items.length };
}

beforeAll(async () => {
  lab = await startLab('blast-tests');
  const up = await lab.run(['up', '--sim'], 240_000);
  expect(up.exitCode, `${up.ended ?? ''} ${up.stderr}`).toBe(0);
  const { core } = lab.clients();
  const pods = await core.listNamespacedPod({
    namespace: NAMESPACE,
    labelSelector: 'app=web-server',
  });
  readyPods = pods.items
    .filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'))
    .map((p) => p.metadata?.name ?? '');
  expect(readyPods).toHaveLength(5);
}, 300_000);

afterAll(async () => {
  // Every pod process and curl the cluster started must be gone with it.
  expect(await lab?.close()).toEqual([]);
}, 120_000);

describe('blast on the embedded cluster', () => {
  it('sends 200 requests through the Service: they sum to 200 and reach every ready pod', async () => {
    const result = await blastJson(['--count', '200', '--via', 'service']);
    const service = result.service!;
    expect(result.portForward).toBeNull();
    expect(service.total).toBe(200);
    expect(service.errors).toBe(0);
    expect(service.pods.reduce((sum, p) => sum + p.count, 0)).toBe(200);
    expect(service.pods.map((p) => p.pod).sort()).toEqual([...readyPods].sort());
    for (const pod of service.pods) expect(pod.count, pod.pod).toBeGreaterThan(0);
    for (const pod of service.pods) expect(pod.replicaId).toBe(pod.pod.split('-').at(-1));
    expect(service.latencyMs!.p50).toBeGreaterThan(0);
    expect(service.latencyMs!.p95).toBeGreaterThanOrEqual(service.latencyMs!.p50);
    const own = chiSquareOf(service.pods.map((p) => p.count));
    expect(service.chiSquare!.statistic).toBeCloseTo(own.statistic, 9);
    expect(service.chiSquare!.pValue).toBeCloseTo(own.pValue, 9);
    expect(await blastObjects()).toEqual({ jobs: 0, pods: 0 });
  });

  it('reaches exactly one pod through port-forward, the one it names', async () => {
    const result = await blastJson(['--count', '20', '--via', 'port-forward']);
    const pf = result.portForward!;
    expect(result.service).toBeNull();
    expect(pf.total).toBe(20);
    expect(pf.errors).toBe(0);
    const reached = pf.pods.filter((p) => p.count > 0);
    expect(reached).toHaveLength(1);
    expect(reached[0]!.pod).toBe(pf.pod);
    expect(reached[0]!.count).toBe(20);
  });

  it('port-forwards to the very pod `kubectl port-forward svc/...` picks', async () => {
    const kubectl = execa(
      'kubectl',
      [
        '--kubeconfig',
        lab.kubeconfig,
        '-n',
        NAMESPACE,
        'port-forward',
        'svc/web-server-service',
        ':80',
      ],
      { reject: false },
    );
    try {
      const port = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error('kubectl port-forward did not start')),
          30_000,
        );
        kubectl.stdout?.on('data', (chunk: Buffer) => {
          const match = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(chunk.toString());
          if (match) {
            clearTimeout(timer);
            resolve(Number(match[1]));
          }
        });
      });
      const kubectlPod = await new Promise<string>((resolve, reject) => {
        http
          .get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
            res.resume();
            resolve(String(res.headers['x-pod-name']));
          })
          .on('error', reject);
      });
      const ours = await blastJson(['--count', '3', '--via', 'port-forward']);
      expect(ours.portForward!.pod).toBe(kubectlPod);
    } finally {
      kubectl.kill('SIGTERM');
      await kubectl;
    }
  });

  it('reaches one pod with --keep-alive, where the same blast without it spreads', async () => {
    const spread = await blastJson(['--count', '30', '--via', 'service']);
    expect(spread.service!.pods.filter((p) => p.count > 0).length).toBeGreaterThan(1);
    const result = await blastJson(['--count', '30', '--via', 'service', '--keep-alive']);
    const reached = result.service!.pods.filter((p) => p.count > 0);
    expect(reached).toHaveLength(1);
    expect(reached[0]!.count).toBe(30);
  });

  it('prints the documented JSON shape for both paths', async () => {
    const result = await blastJson(['--count', '20']);
    expect(Object.keys(result).sort()).toEqual(['count', 'portForward', 'service']);
    expect(result.count).toBe(20);
    const service = result.service!;
    expect([service.total, service.errors]).toEqual([20, 0]);
    expect(Object.keys(service.latencyMs!).sort()).toEqual(['max', 'p50', 'p95']);
    for (const v of Object.values(service.latencyMs!)) expect(typeof v).toBe('number');
    expect(typeof service.chiSquare!.statistic).toBe('number');
    expect(typeof service.chiSquare!.pValue).toBe('number');
    const pf = result.portForward!;
    expect([typeof pf.pod, pf.total, pf.errors]).toEqual(['string', 20, 0]);
    for (const pod of [...result.service!.pods, ...result.portForward!.pods]) {
      expect(Object.keys(pod).sort()).toEqual(['count', 'node', 'pod', 'replicaId']);
      expect(pod.node).toMatch(/^replica-demo-/);
    }
  });

  it('prints the chi-square and p-value of the very table it prints', async () => {
    const result = await lab.run(['blast', '--count', '200', '--via', 'service']);
    expect(result.exitCode, result.stderr).toBe(0);
    const rows = tableRows(result.stdout, 'Through the Service');
    expect(rows.map((r) => r.pod).sort()).toEqual([...readyPods].sort());
    expect(rows.reduce((sum, r) => sum + r.count, 0)).toBe(200);
    const printed = /chi-square ([\d.]+), p (?:= ([\d.]+)|< 0\.001)/.exec(result.stdout);
    expect(printed, result.stdout).not.toBeNull();
    const own = chiSquareOf(rows.map((r) => r.count));
    // Printed with one decimal (none from 100 up), p with three.
    expect(Math.abs(Number(printed![1]) - own.statistic)).toBeLessThanOrEqual(
      own.statistic >= 100 ? 0.5 : 0.05,
    );
    if (printed![2] === undefined) expect(own.pValue).toBeLessThan(0.001);
    else expect(Math.abs(Number(printed![2]) - own.pValue)).toBeLessThanOrEqual(0.0005);
  });

  it('prints tables and the explanations without --json', async () => {
    const result = await lab.run(['blast', '--count', '20']);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toContain('embedded cluster');
    expect(result.stdout).toContain('Through the Service');
    expect(result.stdout).toContain('Through port-forward');
    expect(result.stdout).toContain('once per connection');
    for (const pod of readyPods) expect(result.stdout).toContain(pod);
    // eslint-disable-next-line no-control-regex -- NO_COLOR is set: no escape codes at all
    expect(result.stdout).not.toMatch(/\u001b\[/);
  });

  it.each([20, 2000])('creates exactly one Job and one pod for N = %i', async (count) => {
    const { value, pods, jobs, jobArgs } = await countPodsCreated(
      lab.clients().kc,
      'app.kubernetes.io/component=blast',
      () => blastJson(['--count', String(count), '--via', 'service', '--parallel', '5']),
    );
    expect(value.service!.total).toBe(count);
    expect(value.service!.pods.reduce((s, p) => s + p.count, 0)).toBe(count);
    expect(value.service!.podsCreated).toBe(1);
    expect(jobs.size).toBe(1);
    // Its one curl makes the requests five at a time.
    expect(jobArgs[0]?.join(' ')).toContain('--parallel --parallel-max 5');
    // At most --parallel (5) pods: the one curl does the concurrency, so exactly one.
    expect(pods.size).toBe(1);
    expect(await blastObjects()).toEqual({ jobs: 0, pods: 0 });
  });

  it('after Ctrl-C prints what was answered, marked partial, exits 130 and leaves no Job', async () => {
    const { kc, core } = lab.clients();
    const child = lab.spawn(['blast', '--count', '20000', '--via', 'service', '--json']);
    // Interrupt in the middle of the blast: once its pod has answered some requests.
    const pod = await waitForPod(
      kc,
      'app.kubernetes.io/component=blast',
      (p) => p.status?.phase === 'Running',
      60_000,
    );
    await eventually(
      async () => {
        const log: unknown = await core.readNamespacedPodLog({
          name: pod.metadata?.name ?? '',
          namespace: NAMESPACE,
        });
        return String(log).split('\n').length > 50 ? true : undefined;
      },
      30_000,
      'the blast pod to log 50 requests',
    );
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode).toBe(130);
    const stderr = String(result.stderr);
    expect(stderr).toMatch(/deleted Job replica-demo-blast-\w+ and its pod/);
    const value = JSON.parse(String(result.stdout)) as BlastJson & {
      service: { partial: boolean };
    };
    expect(value.service.partial).toBe(true);
    const total = value.service.total;
    expect(total).toBeGreaterThan(50);
    expect(total).toBeLessThan(20000);
    expect(value.service.errors).toBe(0);
    expect(value.service.pods.reduce((sum, p) => sum + p.count, 0)).toBe(total);
    expect(value.portForward).toBeNull();
    // The last line says why the exit code is 130 and how much the figures cover.
    expect(stderr.trim().split('\n').at(-1)).toBe(
      `Interrupted: the results above are partial (${total} of 20000 through the Service).`,
    );
    expect(await blastObjects()).toEqual({ jobs: 0, pods: 0 });
  });

  it('after Ctrl-C in the port-forward path prints its partial histogram on one pod', async () => {
    const child = lab.spawn(['blast', '--count', '20000', '--via', 'port-forward']);
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    await eventually(
      () => Promise.resolve(/requests through a tunnel/.test(stderr) ? true : undefined),
      30_000,
      'the port-forward path to start',
    );
    await new Promise((resolve) => setTimeout(resolve, 1500));
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode).toBe(130);
    const stdout = String(result.stdout);
    const rows = tableRows(stdout, 'Through port-forward').filter((r) => r.count > 0);
    expect(rows).toHaveLength(1);
    const match = /partial: stopped by Ctrl-C after (\d+) of 20000 requests/.exec(stdout);
    expect(match, stdout).not.toBeNull();
    expect(Number(match?.[1])).toBe(rows[0]?.count);
    expect(stderr.trim().split('\n').at(-1)).toMatch(
      /^Interrupted: the results above are partial \(\d+ of 20000 through port-forward\)\.$/,
    );
  });

  it('says so in plain words when the Job runs past its deadline, and cleans up (exit 11)', async () => {
    const result = await lab.run([
      'blast',
      '--count',
      '20000',
      '--via',
      'service',
      '--timeout',
      '2',
    ]);
    expect(result.exitCode).toBe(11);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(
      /ran past its deadline of 2 s \(--timeout\): \d+ of 20000 requests finished/,
    );
    expect(await blastObjects()).toEqual({ jobs: 0, pods: 0 });
  });

  it('stops the port-forward path at --timeout (exit 11)', async () => {
    const result = await lab.run([
      'blast',
      '--count',
      '20000',
      '--via',
      'port-forward',
      '--timeout',
      '1',
    ]);
    expect(result.exitCode).toBe(11);
    expect(result.stderr).toMatch(/port-forward blast ran past --timeout 1 s/);
  });

  // The Service is changed with kubectl, as a learner would.
  it('reaches one pod when the Service pins clients with sessionAffinity: ClientIP', async () => {
    const patch = (affinity: string) =>
      execa('kubectl', [
        '--kubeconfig',
        lab.kubeconfig,
        '-n',
        NAMESPACE,
        'patch',
        'service',
        'web-server-service',
        '--type',
        'merge',
        '-p',
        JSON.stringify({ spec: { sessionAffinity: affinity } }),
      ]);
    // Without affinity the same blast spreads, so one pod below is the affinity's doing.
    const spread = await blastJson(['--count', '40', '--via', 'service']);
    expect(spread.service!.pods.filter((p) => p.count > 0).length).toBeGreaterThan(1);
    await patch('ClientIP');
    try {
      const result = await blastJson(['--count', '40', '--via', 'service']);
      expect(result.service!.pods.filter((p) => p.count > 0)).toHaveLength(1);
      const text = await lab.run(['blast', '--count', '5', '--via', 'service']);
      expect(text.stdout).toContain('sessionAffinity: ClientIP');
    } finally {
      await patch('None');
    }
  });

  it('--affinity ClientIP puts every request on one pod for this blast, then restores the Service', async () => {
    const { core } = lab.clients();
    const affinity = async () =>
      (await core.readNamespacedService({ name: 'web-server-service', namespace: NAMESPACE })).spec;
    // The test before pinned the Service and set it back to None with kubectl: as on a real
    // API server, None carries no affinity config.
    expect((await affinity())?.sessionAffinity).toBe('None');
    expect((await affinity())?.sessionAffinityConfig).toBeUndefined();
    const run = await lab.run([
      'blast',
      '--affinity',
      'ClientIP',
      '--count',
      '60',
      '--via',
      'service',
      '--json',
    ]);
    expect(run.exitCode, run.stderr).toBe(0);
    const value = JSON.parse(run.stdout) as BlastJson;
    expect(value.service!.pods.filter((p) => p.count > 0)).toHaveLength(1);
    expect(run.stderr).toContain('sessionAffinity ClientIP for this blast (it was None');
    expect(run.stderr).toContain('sessionAffinity back to None.');
    const after = await affinity();
    expect(after?.sessionAffinity).toBe('None');
    expect(after?.sessionAffinityConfig).toBeUndefined();
  });

  it('--affinity: Ctrl-C mid-blast restores the Service too (exit 130)', async () => {
    const { kc, core } = lab.clients();
    const child = lab.spawn([
      'blast',
      '--affinity',
      'ClientIP',
      '--count',
      '20000',
      '--via',
      'service',
    ]);
    await waitForPod(
      kc,
      'app.kubernetes.io/component=blast',
      (p) => p.status?.phase === 'Running',
      60_000,
    );
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode).toBe(130);
    expect(String(result.stderr)).toContain('sessionAffinity back to None.');
    const service = await core.readNamespacedService({
      name: 'web-server-service',
      namespace: NAMESPACE,
    });
    expect(service.spec?.sessionAffinity).toBe('None');
    expect(await blastObjects()).toEqual({ jobs: 0, pods: 0 });
  });

  it.each([
    [
      ['blast', '--affinity', 'ClientIP', '--via', 'port-forward'],
      /--affinity .*--via port-forward/,
    ],
    [
      ['blast', '--affinity', 'Sticky'],
      /--affinity <mode>' argument 'Sticky' is invalid. Allowed choices are ClientIP, None/,
    ],
    [['blast', '--count', '0'], /--count 0 is out of range/],
    [['blast', '--count', 'many'], /--count "many" is not a whole number/],
    [['blast', '--parallel', '10', '--count', '5'], /--parallel 10 is more than --count 5/],
    [['blast', '--keep-alive', '--parallel', '3'], /--keep-alive/],
    [['blast', '--via', 'ingress'], /ingress/],
    [['blast', '--timeout', '0'], /--timeout 0/],
    [['kill-pod', '--grace', 'soon'], /--grace "soon"/],
    [['kill-pod', '--force'], /--force .* needs --under-load/],
    [['kill-pod', '--under-load', '--force', '--grace', '1'], /--grace 1 contradicts/],
    [['kill-pod', '--crash'], /--crash .* needs --under-load/],
    [['kill-pod', '--under-load', '--crash', '--force'], /--crash .* drop --force/],
    [['kill-pod', '--under-load', '--crash', '--grace', '3'], /--grace 3 .* drop --grace/],
  ])('rejects %j with exit 2, one line, and creates nothing', async (args, message) => {
    const result = await lab.runInProcess([...args, '--sim']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(message);
    expect(await blastObjects()).toEqual({ jobs: 0, pods: 0 });
  });

  it('sends nothing through the Service to a pod that serves but is not Ready', async () => {
    const { kc, core } = lab.clients();
    const apps = kc.makeApiClient(k8s.AppsV1Api);
    const deployment = await apps.readNamespacedDeployment({
      name: 'web-server-deployment',
      namespace: NAMESPACE,
    });
    // The replicas' own pod spec, under the Service's selector but outside the ReplicaSet's,
    // with a readiness probe that can never pass: the server runs and answers, 404 there.
    const spec = structuredClone(deployment.spec!.template.spec!);
    for (const c of spec.containers) {
      c.readinessProbe = { ...c.readinessProbe, periodSeconds: 1 };
      c.readinessProbe.httpGet = { ...c.readinessProbe.httpGet!, path: '/never-ready' };
    }
    const name = 'web-server-not-ready';
    await core.createNamespacedPod({
      namespace: NAMESPACE,
      body: { metadata: { name, labels: { app: 'web-server' } }, spec },
    });
    try {
      // Running, probed, and refused by its readiness probe: it would answer if sent anything.
      await waitForPod(
        kc,
        'app=web-server',
        (p) =>
          p.metadata?.name === name &&
          p.status?.phase === 'Running' &&
          (p.status.containerStatuses ?? []).some((c) => c.started === true),
        60_000,
      );
      await eventually(
        async () => {
          const events = await core.listNamespacedEvent({
            namespace: NAMESPACE,
            fieldSelector: `involvedObject.name=${name}`,
          });
          return events.items.some((e) => e.message?.startsWith('Readiness probe failed'))
            ? true
            : undefined;
        },
        20_000,
        'a failed readiness probe on the pod',
      );

      const result = await blastJson(['--count', '200', '--via', 'service']);
      expect(result.service!.total).toBe(200);
      expect(result.service!.errors).toBe(0);
      // Not even a row: the split is judged over the ready pods alone.
      expect(result.service!.pods.map((p) => p.pod).sort()).toEqual([...readyPods].sort());
      expect(result.service!.pods.filter((p) => p.count > 0).length).toBeGreaterThan(1);

      const pod = await core.readNamespacedPod({ name, namespace: NAMESPACE });
      expect(pod.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('False');
    } finally {
      await core.deleteNamespacedPod({ name, namespace: NAMESPACE, gracePeriodSeconds: 1 });
    }
  });
});
