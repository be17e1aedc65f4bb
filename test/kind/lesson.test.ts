import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reachableKindCluster } from './cluster.js';
import type { CrashResult } from '../../src/cli/commands/kill-pod.js';

/**
 * The lesson against a real kind cluster, as a user runs it: `up` without --sim (docker build,
 * kind load, apply, wait), a blast through a real kube-proxy, a port-forward through a real
 * kubelet, a real ReplicaSet replacing a killed pod, `down`, then the whole `tour`.
 * Opt-in (`npm run test:kind`): it builds and loads an image and changes the cluster, so it
 * never runs by default, and it skips with one line where no kind cluster answers.
 */

const root = path.resolve(import.meta.dirname, '../..');
const cli = path.join(root, 'bin/replica-demo.js');
const NAMESPACE = 'multi-replica-web';

const cluster = await reachableKindCluster();
if (!cluster)
  console.log(
    'kind suite skipped: no kind cluster is reachable (`kind get clusters` lists none that answers)',
  );

/** The local registry `scripts/kind/cluster.sh registry` starts beside the cluster. */
const REGISTRY_HOST = process.env.REPLICA_DEMO_KIND_REGISTRY ?? 'localhost:5001';
async function registryAnswers(): Promise<boolean> {
  try {
    return (await fetch(`http://${REGISTRY_HOST}/v2/`, { signal: AbortSignal.timeout(5000) })).ok;
  } catch {
    return false;
  }
}
const registry = cluster !== undefined && (await registryAnswers());
if (cluster && !registry)
  console.log(
    `up --registry case skipped: no registry answers at ${REGISTRY_HOST} (scripts/kind/cluster.sh registry starts one)`,
  );

interface PodCount {
  pod: string;
  node: string;
  count: number;
}
interface BlastJson {
  service: {
    total: number;
    errors: number;
    pods: PodCount[];
    chiSquare: { statistic: number; pValue: number };
    proxyMode: string;
  };
  portForward: { pod: string; total: number; errors: number; pods: PodCount[] };
}
interface LoadSecond {
  second: number;
  requests: number;
  failed: number;
  pods: Record<string, number>;
}
interface LoadJson {
  killed: string;
  replacement: string | null;
  node: string | null;
  mode: 'graceful' | 'force' | 'crash';
  force: boolean;
  crash: CrashResult | null;
  timeline: { event: string; atSeconds: number; detail?: string }[];
  load: {
    requests: number;
    failed: number;
    failedBetweenSeconds: { first: number; last: number } | null;
    curlErrors: { code: number; message: string; count: number }[];
    victimAnswersAfterKill: number;
    seconds: LoadSecond[];
  };
}
interface KillJson {
  killed: string;
  replacement: string;
  node: string;
  recoverySeconds: number;
  timeline: { event: string; atSeconds: number; detail?: string }[];
}

describe.skipIf(!cluster)(`the lesson on kind cluster ${cluster ?? ''}`, () => {
  const context = `kind-${cluster ?? ''}`;
  let home: string;
  const run = (args: string[]) =>
    execa('node', [cli, ...args], {
      reject: false,
      env: { REPLICA_DEMO_HOME: home, NO_COLOR: '1' },
      timeout: 540_000,
    });
  const kubectl = (args: string[]) =>
    execa('kubectl', ['--context', context, ...args], { reject: false, timeout: 60_000 });

  async function readyPods(): Promise<{ name: string; node: string }[]> {
    const result = await kubectl([
      'get',
      'pods',
      '-n',
      NAMESPACE,
      '-l',
      'app=web-server',
      '-o',
      'jsonpath={range .items[*]}{.metadata.name} {.spec.nodeName} {.status.containerStatuses[0].ready} {.metadata.deletionTimestamp}{"\\n"}{end}',
    ]);
    return result.stdout
      .split('\n')
      .map((line) => line.trim().split(' '))
      .filter(([, , ready, deleting]) => ready === 'true' && deleting === undefined)
      .map(([name = '', node = '']) => ({ name, node }));
  }

  async function workerNodes(): Promise<string[]> {
    const result = await kubectl([
      'get',
      'nodes',
      '-l',
      '!node-role.kubernetes.io/control-plane',
      '-o',
      'jsonpath={.items[*].metadata.name}',
    ]);
    return result.stdout.split(' ').filter((name) => name !== '');
  }

  async function namespaceGone(): Promise<boolean> {
    const result = await kubectl(['get', 'namespace', NAMESPACE]);
    return result.exitCode !== 0 && /NotFound/.test(result.stderr);
  }

  /** Runs `kubectl port-forward svc/web-server-service` and asks who answers through it. */
  async function podKubectlPortForwardPicks(): Promise<string> {
    const forward = execa(
      'kubectl',
      ['--context', context, 'port-forward', '-n', NAMESPACE, 'svc/web-server-service', ':80'],
      { reject: false, buffer: false },
    );
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let seen = '';
        forward.stdout.on('data', (chunk: Buffer) => {
          seen += chunk.toString();
          const match = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(seen);
          if (match?.[1] !== undefined) resolve(Number(match[1]));
        });
        void forward.then((r) => reject(new Error(`port-forward ended: ${String(r.exitCode)}`)));
      });
      const response = await fetch(`http://127.0.0.1:${port}/`);
      return ((await response.json()) as { pod_name: string }).pod_name;
    } finally {
      forward.kill();
    }
  }

  beforeAll(() => {
    home = mkdtempSync(path.join(os.tmpdir(), 'replica-demo-kind-'));
  });
  afterAll(async () => {
    await run(['down', '--yes']);
    rmSync(home, { recursive: true, force: true });
  });

  it('runs a kubectl within one minor version of the cluster (the supported skew)', async () => {
    const version = await kubectl(['version', '-o', 'json']);
    const parsed = JSON.parse(version.stdout) as {
      clientVersion: { minor: string };
      serverVersion: { minor: string };
    };
    const client = Number.parseInt(parsed.clientVersion.minor, 10);
    const server = Number.parseInt(parsed.serverVersion.minor, 10);
    expect(Math.abs(client - server)).toBeLessThanOrEqual(1);
  });

  it('up builds, loads and applies, and waits until 5 replicas are ready on the workers', async () => {
    const up = await run(['up', '--cluster', cluster ?? '']);
    expect(up.exitCode, up.stderr).toBe(0);
    expect(up.stderr).toMatch(/5\/5 replicas ready/);
    const pods = await readyPods();
    expect(pods).toHaveLength(5);
    const workers = await workerNodes();
    expect(new Set(pods.map((p) => p.node))).toEqual(new Set(workers));

    const image = await kubectl([
      'get',
      'deployment',
      'web-server-deployment',
      '-n',
      NAMESPACE,
      '-o',
      'jsonpath={.spec.template.spec.containers[0].image} {.spec.template.spec.containers[0].imagePullPolicy}',
    ]);
    expect(image.stdout).toMatch(/^multi-replica-app:[0-9a-f]{12} IfNotPresent$/);
  });

  it('spreads 200 requests through the Service over all 5 pods on both workers, and port-forward over one', async () => {
    const blast = await run(['blast', '--count', '200', '--json']);
    expect(blast.exitCode, blast.stderr).toBe(0);
    const result = JSON.parse(blast.stdout) as BlastJson;
    expect(result.service.total).toBe(200);
    expect(result.service.errors).toBe(0);
    const answered = result.service.pods.filter((p) => p.count > 0);
    expect(answered).toHaveLength(5);
    expect(answered.reduce((sum, p) => sum + p.count, 0)).toBe(200);
    expect(new Set(answered.map((p) => p.node))).toEqual(new Set(await workerNodes()));
    expect(result.service.chiSquare.pValue).toBeGreaterThan(0.01);
    // kind runs kube-proxy in iptables mode, and blast read it from kube-proxy's ConfigMap.
    expect(result.service.proxyMode).toBe('iptables');

    expect(result.portForward.total).toBe(200);
    expect(result.portForward.errors).toBe(0);
    const forwarded = result.portForward.pods.filter((p) => p.count > 0);
    expect(forwarded).toHaveLength(1);
    expect(forwarded[0]?.pod).toBe(result.portForward.pod);
    expect(forwarded[0]?.count).toBe(200);

    // The pod blast named is the one `kubectl port-forward svc/...` itself picks.
    expect(await podKubectlPortForwardPicks()).toBe(result.portForward.pod);

    // What the original lesson tells a learner to watch by hand.
    const logs = await kubectl(['logs', '-n', NAMESPACE, '-l', 'app=web-server', '--tail=-1']);
    expect(logs.stdout).toMatch(
      /^\[\d{4}-\d\d-\d\dT[\d:.]+Z\] Request received by web-server-deployment-\S+-(\w{5}) \(Replica \1\)$/m,
    );
  });

  it('blast --affinity ClientIP lands every request on one pod, then restores the Service', async () => {
    const blast = await run([
      'blast',
      '--affinity',
      'ClientIP',
      '--count',
      '100',
      '--via',
      'service',
      '--json',
    ]);
    expect(blast.exitCode, blast.stderr).toBe(0);
    const result = JSON.parse(blast.stdout) as BlastJson;
    expect(result.service.errors).toBe(0);
    expect(result.service.pods.filter((p) => p.count > 0)).toHaveLength(1);
    const affinity = await kubectl([
      'get',
      'service',
      'web-server-service',
      '-n',
      NAMESPACE,
      '-o',
      'jsonpath={.spec.sessionAffinity}',
    ]);
    expect(affinity.stdout).toBe('None');
  });

  it("logs merges every replica's log, each line led by its replica id", async () => {
    const logs = await run(['logs', '--since', '10m']);
    expect(logs.exitCode, logs.stderr).toBe(0);
    const requests = logs.stdout.split('\n').filter((l) => l.includes('Request received by'));
    expect(requests.length).toBeGreaterThanOrEqual(300);
    for (const line of requests) {
      expect(line).toMatch(/^(\w{5}) │ \[[^\]]+\] Request received by \S+-\1 \(Replica \1\)$/);
    }
    expect(new Set(requests.map((l) => l.slice(0, 5))).size).toBe(5);
  });

  it('status says the lesson is up and ready, with the proxy mode and the last blast (exit 0)', async () => {
    const status = await run(['status', '--json']);
    expect(status.exitCode, status.stderr).toBe(0);
    const value = JSON.parse(status.stdout) as {
      target: { mode: string; cluster: string };
      deployment: { desired: number; ready: number };
      service: { endpoints: number };
      proxyMode: { mode: string; source: string; embedded?: boolean };
      lastBlast: { count: number } | null;
      ready: boolean;
    };
    expect(value.ready).toBe(true);
    expect(value.target).toMatchObject({ mode: 'kind', cluster });
    expect(value.deployment).toMatchObject({ desired: 5, ready: 5 });
    expect(value.service.endpoints).toBe(5);
    expect(value.proxyMode).toEqual({
      mode: 'iptables',
      source: 'ConfigMap kube-system/kube-proxy',
    });
    expect(value.lastBlast?.count).toBe(100);
  });

  it('kill-pod deletes a replica and times the ReplicaSet replacing it', async () => {
    const before = await readyPods();
    const kill = await run(['kill-pod', '--json']);
    expect(kill.exitCode, kill.stderr).toBe(0);
    const result = JSON.parse(kill.stdout) as KillJson;
    expect(before.map((p) => p.name)).toContain(result.killed);
    expect(result.replacement).not.toBe(result.killed);
    expect(before.map((p) => p.name)).not.toContain(result.replacement);
    const events = result.timeline.map((e) => e.event);
    for (const event of ['deleted', 'replacement-created', 'scheduled', 'ready', 'recovered']) {
      expect(events).toContain(event);
    }
    const at = (event: string) => result.timeline.find((e) => e.event === event)?.atSeconds ?? -1;
    expect(at('replacement-created')).toBeLessThanOrEqual(at('ready'));
    expect(result.recoverySeconds).toBeGreaterThan(0);
    expect(result.recoverySeconds).toBe(at('recovered'));

    const after = await readyPods();
    expect(after).toHaveLength(5);
    expect(after.map((p) => p.name)).toContain(result.replacement);
    expect(after.map((p) => p.name)).not.toContain(result.killed);
  });

  it('kill-pod --under-load counts 1250 requests per second through a real kill, gracefully and with --force', async () => {
    const killUnderLoad = async (args: string[]): Promise<LoadJson> => {
      const before = await readyPods();
      expect(before).toHaveLength(5);
      const kill = await run(['kill-pod', '--under-load', ...args, '--json']);
      expect(kill.exitCode, kill.stderr).toBe(0);
      const result = JSON.parse(kill.stdout) as LoadJson;
      expect(before.map((p) => p.name)).toContain(result.killed);
      const { load } = result;
      expect(load.requests).toBe(1250);
      expect(load.seconds.reduce((sum, s) => sum + s.requests, 0)).toBe(1250);
      expect(load.seconds.reduce((sum, s) => sum + s.failed, 0)).toBe(load.failed);
      const full = (s: LoadSecond) => s.requests >= 40;
      // Before the kill every full second reached the victim; from a second after it, none did.
      const before5 = load.seconds.filter((s) => s.second < 0 && full(s));
      expect(before5.length).toBeGreaterThanOrEqual(4);
      for (const s of before5) expect(s.pods[result.killed] ?? 0).toBeGreaterThan(0);
      for (const s of load.seconds.filter((x) => x.second >= 1))
        expect(s.pods[result.killed]).toBeUndefined();
      // The replacement takes its share once it is ready.
      const readyAt = result.timeline.find((e) => e.event === 'ready')!.atSeconds;
      const after = load.seconds.filter((s) => s.second > readyAt + 1 && full(s));
      expect(after.length).toBeGreaterThanOrEqual(3);
      for (const s of after) expect(s.pods[result.replacement!] ?? 0).toBeGreaterThan(0);
      expect(await readyPods()).toHaveLength(5);
      return result;
    };

    const graceful = await killUnderLoad([]);
    expect(graceful.force).toBe(false);
    expect(graceful.load.failed).toBe(0);
    expect(graceful.timeline.map((e) => e.event)).toContain('terminating');

    const forced = await killUnderLoad(['--force']);
    expect(forced.force).toBe(true);
    const event = (name: string) => forced.timeline.find((e) => e.event === name);
    expect(event('terminating')?.detail).toBe('grace period 0 s');
    expect(event('old-pod-gone')!.atSeconds).toBeLessThan(1);
    // What a forced deletion costs depends on which is first, the kubelet stopping the
    // process or every kube-proxy stopping to send to it; whatever failed, failed after the kill.
    if (forced.load.failedBetweenSeconds !== null)
      expect(forced.load.failedBetweenSeconds.first).toBeGreaterThanOrEqual(0);
  });

  it('kill-pod --under-load --crash loses requests while the dead process is an endpoint, and its kubelet restarts it in place', async () => {
    /** Each pod's name, node and restart count, ready or not. */
    const restarts = async (): Promise<Record<string, number>> => {
      const result = await kubectl([
        'get',
        'pods',
        '-n',
        NAMESPACE,
        '-l',
        'app=web-server',
        '-o',
        'jsonpath={range .items[*]}{.metadata.name} {.status.containerStatuses[0].restartCount}{"\\n"}{end}',
      ]);
      return Object.fromEntries(
        result.stdout
          .split('\n')
          .filter((line) => line.trim() !== '')
          .map((line) => {
            const [name = '', count = '0'] = line.trim().split(' ');
            return [name, Number(count)];
          }),
      );
    };
    /**
     * A kubelet notices a dead container at its next relist, 0 to 1 s after the crash, and the
     * crashed pod gets a fifth of 50 requests a second meanwhile: a short window may hold none.
     * So another pod is crashed until a window was long enough to be sure of a loss.
     */
    const WINDOW_FOR_A_SURE_LOSS = 0.4;
    const crashed: string[] = [];
    let sure: LoadJson | undefined;
    for (let attempt = 0; attempt < 5 && sure === undefined; attempt += 1) {
      expect(await readyPods()).toHaveLength(5);
      const before = await restarts();
      const pod = Object.keys(before)
        .sort()
        .find((name) => before[name] === 0 && !crashed.includes(name));
      expect(pod).toBeDefined();
      const kill = await run(['kill-pod', '--under-load', '--crash', '--pod', pod!, '--json']);
      // The requests a crash loses are the lesson: no failed exit for them.
      expect(kill.exitCode, kill.stderr).toBe(0);
      const result = JSON.parse(kill.stdout) as LoadJson;
      crashed.push(result.killed);
      expect(result.killed).toBe(pod);
      expect(result.mode).toBe('crash');
      expect(result.replacement).toBeNull();
      const crash = result.crash!;
      expect(crash).toMatchObject({ pod, exitCode: 1, reason: 'Error', restartCount: 1 });
      // The same five pods, the crashed one restarted once in place, the others untouched.
      expect(await restarts()).toEqual({ ...before, [pod!]: 1 });
      expect(await readyPods()).toHaveLength(5);
      const events = result.timeline.map((e) => e.event);
      for (const event of ['crashed', 'not-ready', 'left-endpoints', 'restarted', 'ready-again'])
        expect(events).toContain(event);
      expect(events).not.toContain('replacement-created');
      const at = (event: string) => result.timeline.find((e) => e.event === event)!.atSeconds;
      expect(at('not-ready')).toBeLessThanOrEqual(at('left-endpoints'));
      expect(at('left-endpoints')).toBeLessThanOrEqual(at('ready-again'));
      expect(at('restarted')).toBeLessThanOrEqual(at('ready-again'));
      // The kubelet's relist runs every second; its report and the endpoints take a moment more.
      expect(crash.notReadySeconds).toBeLessThan(3);
      const { load } = result;
      expect(load.requests).toBe(1250);
      expect(load.seconds.reduce((sum, s) => sum + s.failed, 0)).toBe(load.failed);
      // Failed only from the crash until every node's kube-proxy stopped sending to it.
      const closed = crash.leftEndpointsSeconds! + 1;
      if (load.failedBetweenSeconds !== null) {
        expect(load.failedBetweenSeconds.first).toBeGreaterThanOrEqual(-0.1);
        expect(load.failedBetweenSeconds.last).toBeLessThanOrEqual(closed);
      }
      // The crashed pod answers again once it is Ready again.
      const back = load.seconds.filter(
        (s) => s.second > crash.readyAgainSeconds! + 1 && s.requests >= 40,
      );
      expect(back.length).toBeGreaterThanOrEqual(3);
      for (const s of back) expect(s.pods[result.killed] ?? 0).toBeGreaterThan(0);
      if (crash.leftEndpointsSeconds! >= WINDOW_FOR_A_SURE_LOSS) sure = result;
    }
    expect(sure, 'every window was shorter than 0.4 s').toBeDefined();
    expect(sure!.load.failed).toBeGreaterThan(0);
  });

  it('down removes the lesson and keeps the cluster', async () => {
    const down = await run(['down', '--yes']);
    expect(down.exitCode, down.stderr).toBe(0);
    expect(await namespaceGone()).toBe(true);
    expect((await run(['status'])).exitCode).toBe(14);
    const ready = await kubectl(['get', '--raw', '/readyz']);
    expect(ready.stdout).toBe('ok');
    const clusters = await execa('kind', ['get', 'clusters']);
    expect(clusters.stdout.split('\n')).toContain(cluster);
  });

  it.skipIf(!registry)(
    'up --registry pushes both images, the nodes pull them from there, blast uses the pushed curl image',
    async () => {
      const where = `${REGISTRY_HOST}/lesson-${Date.now().toString(36)}`;
      const up = await run(['up', '--cluster', cluster ?? '', '--registry', where, '--json']);
      expect(up.exitCode, up.stderr).toBe(0);
      const result = JSON.parse(up.stdout) as {
        image: string;
        registry: string;
        pushed: string[];
        loadedNodes: string[];
      };
      expect(result.registry).toBe(where);
      expect(result.image).toMatch(new RegExp(`^${where}/multi-replica-app:[0-9a-f]{12}$`));
      expect(result.pushed).toEqual([result.image, `${where}/curl:8.11.1`]);
      expect(result.loadedNodes).toEqual([]);
      expect(up.stderr).not.toMatch(/Loaded .* into/);
      // Each worker's containerd pulled the image by its registry name (kind load never ran,
      // so only a pull from the registry can have given a node that name).
      const tag = result.image.slice(result.image.lastIndexOf(':') + 1);
      const nodeImages = async () =>
        Promise.all(
          (await workerNodes()).map(
            async (node) =>
              (await execa('docker', ['exec', node, 'crictl', 'images'], { reject: false })).stdout,
          ),
        );
      for (const listing of await nodeImages()) {
        expect(listing).toMatch(new RegExp(`^${where}/multi-replica-app +${tag} `, 'm'));
      }

      const blast = await run(['blast', '--count', '50', '--via', 'service', '--json']);
      expect(blast.exitCode, blast.stderr).toBe(0);
      expect((JSON.parse(blast.stdout) as BlastJson).service.total).toBe(50);
      const listings = await nodeImages();
      expect(listings.some((l) => new RegExp(`^${where}/curl +8\\.11\\.1 `, 'm').test(l))).toBe(
        true,
      );

      const down = await run(['down', '--yes']);
      expect(down.exitCode, down.stderr).toBe(0);
      expect(down.stderr).toContain(`stay in ${where}`);
      expect(await namespaceGone()).toBe(true);
    },
  );

  it('tour runs the whole lesson and cleans up after itself', async () => {
    const tour = await run(['tour']);
    expect(tour.exitCode, tour.stderr).toBe(0);
    expect(tour.stdout).toContain(`Using the kind cluster "${cluster ?? ''}"`);
    expect(tour.stdout).toMatch(/Step 7 of 7/);
    expect(tour.stdout).toMatch(/Back to 5\/5 ready in [\d.]+ s/);
    expect(await namespaceGone()).toBe(true);
  });
});
