import { fileURLToPath } from 'node:url';
import { statSync } from 'node:fs';
import http from 'node:http';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, requireKubectl, startTestSim, type TestSim } from './helpers/sim.js';

/**
 * The lesson's kubectl commands, run by the real kubectl against a real embedded-cluster
 * daemon through its kubeconfig.
 */

const NS = 'multi-replica-web';
const manifests = fileURLToPath(new URL('../manifests/', import.meta.url));
const blastJob = fileURLToPath(new URL('./fixtures/sim-blast-job.yaml', import.meta.url));
await requireKubectl();

interface PodJson {
  metadata: { name: string; deletionTimestamp?: string };
  spec: { nodeName?: string };
  status: { phase?: string; podIP?: string; containerStatuses?: { ready: boolean }[] };
}

let sim: TestSim;

async function pods(): Promise<PodJson[]> {
  const r = await sim.kubectl(['get', 'pods', '-n', NS, '-l', 'app=web-server', '-o', 'json']);
  if (r.exitCode !== 0) throw new Error(r.stderr);
  return (JSON.parse(r.stdout) as { items: PodJson[] }).items;
}

const live = (list: PodJson[]) => list.filter((p) => !p.metadata.deletionTimestamp);
const serverProcesses = () => sim.children().filter((p) => p.args.includes('server/main.js'));

describe('the lesson with the real kubectl', () => {
  beforeAll(async () => {
    sim = await startTestSim({ nodes: 3, seed: 'kubectl-lesson' });
  });

  afterAll(async () => {
    if (!sim) return;
    const left = await sim.stop();
    expect(left).toEqual([]);
  });

  it('keeps its kubeconfig private (mode 0600)', () => {
    expect(statSync(sim.kubeconfigPath).mode & 0o777).toBe(0o600);
  });

  it('kubectl get works with discovery and server-side tables', async () => {
    const r = await sim.kubectl(['get', 'nodes']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION/);
    expect(r.stdout).toContain('replica-demo-worker');
  });

  it('kubectl create namespace (a protobuf body) works', async () => {
    const r = await sim.kubectl(['create', 'namespace', 'scratch']);

    expect(r.stdout).toContain('namespace/scratch created');

    const got = await sim.kubectl([
      'get',
      'namespace',
      'scratch',
      '-o',
      'jsonpath={.status.phase}',
    ]);

    expect(got.stdout).toBe('Active');
  });

  it('kubectl create secret, configmap and deployment (protobuf bodies) work', async () => {
    const ns = ['-n', 'scratch'];
    const secret = await sim.kubectl([
      'create',
      'secret',
      'generic',
      'creds',
      '--from-literal=user=admin',
      ...ns,
    ]);
    expect(secret.stderr).toBe('');
    expect(secret.stdout).toBe('secret/creds created');
    const data = await sim.kubectl([
      'get',
      'secret',
      'creds',
      '-o',
      'jsonpath={.data.user}',
      ...ns,
    ]);
    expect(Buffer.from(data.stdout, 'base64').toString()).toBe('admin');
    const table = await sim.kubectl(['get', 'secrets', ...ns]);
    expect(table.stdout).toMatch(/^NAME\s+TYPE\s+DATA\s+AGE\ncreds\s+Opaque\s+1\s+\d+s$/);

    const cm = await sim.kubectl(['create', 'configmap', 'cfg', '--from-literal=k=v', ...ns]);
    expect(cm.stdout).toBe('configmap/cfg created');

    const deploy = await sim.kubectl([
      'create',
      'deployment',
      'made',
      '--image=multi-replica-app:dev',
      '--replicas=0',
      ...ns,
    ]);
    expect(deploy.stdout).toBe('deployment.apps/made created');
    // --replicas=0 is a pointer to 0 on the wire: it stays 0, not the default of 1.
    const replicas = await sim.kubectl([
      'get',
      'deployment',
      'made',
      '-o',
      'jsonpath={.spec.replicas}',
      ...ns,
    ]);
    expect(replicas.stdout).toBe('0');
  });

  it('kubectl apply --server-side -f manifests/', async () => {
    const r = await sim.kubectl(['apply', '--server-side', '-f', manifests]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('deployment.apps/web-server-deployment serverside-applied');
    expect(r.stdout).toContain('service/web-server-service serverside-applied');
  });

  it('kubectl rollout status finishes', async () => {
    const r = await sim.kubectl(
      ['rollout', 'status', 'deployment/web-server-deployment', '-n', NS, '--timeout=90s'],
      { timeoutMs: 100_000 },
    );
    expect(r.stdout).toContain('successfully rolled out');
    expect(r.exitCode).toBe(0);
  }, 120_000);

  it('kubectl get pods -o wide shows 5 Running Ready pods with distinct IPs over several nodes', async () => {
    const r = await sim.kubectl(['get', 'pods', '-n', NS, '-o', 'wide']);
    expect(r.exitCode).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE/);
    const rows = lines.slice(1).map((l) => l.split(/\s+/));
    expect(rows).toHaveLength(5);
    for (const row of rows) {
      expect(row[0]).toMatch(/^web-server-deployment-[a-z0-9]{6,10}-[a-z0-9]{5}$/);
      expect(row[1]).toBe('1/1');
      expect(row[2]).toBe('Running');
      expect(row[5]).toMatch(/^127\.\d+\.\d+\.\d+$/);
    }
    expect(new Set(rows.map((r) => r[5])).size).toBe(5);
    expect(new Set(rows.map((r) => r[6])).size).toBeGreaterThan(1);
  });

  it('a curl Job through the Service lands on several pods, and kubectl logs -l shows it', async () => {
    const applied = await sim.kubectl(['apply', '-f', blastJob]);
    expect(applied.exitCode).toBe(0);
    const waited = await sim.kubectl(
      ['wait', '--for=condition=complete', 'job/blast-fixture', '-n', NS, '--timeout=60s'],
      { timeoutMs: 70_000 },
    );
    expect(waited.exitCode).toBe(0);
    const jobLog = await sim.kubectl(['logs', '-n', NS, 'job/blast-fixture']);
    const answers = jobLog.stdout.trim().split('\n');
    expect(answers).toHaveLength(20);
    for (const a of answers) expect(a).toMatch(/^200 [\d.]+ web-server-deployment-/);
    const logs = await sim.kubectl(['logs', '-n', NS, '-l', 'app=web-server', '--tail=-1']);
    expect(logs.exitCode).toBe(0);
    const received = logs.stdout
      .split('\n')
      .map((l) => /^\[[^\]]+\] Request received by (\S+) \(Replica ([a-z0-9]{5})\)$/.exec(l))
      .filter((m) => m !== null);
    expect(received.length).toBeGreaterThanOrEqual(20);
    expect(new Set(received.map((m) => m[1])).size).toBeGreaterThan(1);
  }, 120_000);

  it('kubectl port-forward svc/web-server-service tunnels to one pod', async () => {
    const forward = execa(
      'kubectl',
      [
        '--kubeconfig',
        sim.kubeconfigPath,
        'port-forward',
        'svc/web-server-service',
        '-n',
        NS,
        ':80',
      ],
      { reject: false, env: { HOME: sim.home, PATH: process.env.PATH ?? '' }, extendEnv: false },
    );
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let seen = '';
        const timer = setTimeout(() => reject(new Error(`no forwarding line: ${seen}`)), 20_000);
        forward.stdout?.on('data', (chunk: Buffer) => {
          seen += chunk.toString();
          const m = /Forwarding from 127\.0\.0\.1:(\d+) -> 8080/.exec(seen);
          if (m) {
            clearTimeout(timer);
            resolve(Number(m[1]));
          }
        });
      });
      const answers: string[] = [];
      for (let i = 0; i < 3; i += 1) {
        answers.push(
          await new Promise<string>((resolve, reject) => {
            http
              .get(
                {
                  host: '127.0.0.1',
                  port,
                  path: '/',
                  headers: { Connection: 'close' },
                  agent: false,
                },
                (res) => {
                  res.resume();
                  resolve(String(res.headers['x-pod-name']));
                },
              )
              .on('error', reject);
          }),
        );
      }
      expect(answers[0]).toMatch(/^web-server-deployment-/);
      // kubectl resolves the Service to one pod once: every request lands there.
      expect(new Set(answers).size).toBe(1);
      // The tunnel dies with that pod.
      await sim.kubectl([
        'delete',
        'pod',
        answers[0] ?? '',
        '-n',
        NS,
        '--grace-period=1',
        '--wait=false',
      ]);
      const ended = await forward;
      expect(ended.stderr).toContain('lost connection to pod');
      await eventually(
        async () => (live(await pods()).length === 5 ? true : undefined),
        60_000,
        'five pods again',
      );
    } finally {
      forward.kill('SIGTERM');
      await forward;
    }
  }, 90_000);

  it('kubectl delete pod is followed by a replacement with a new name', async () => {
    const before = live(await pods());
    const victim = before[0]?.metadata.name ?? '';
    const r = await sim.kubectl(['delete', 'pod', victim, '-n', NS, '--wait=false']);
    expect(r.stdout).toContain(`pod "${victim}" deleted`);
    const after = await eventually(
      async () => {
        const now = live(await pods());
        const names = now.map((p) => p.metadata.name);
        return now.length === 5 && !names.includes(victim) ? names : undefined;
      },
      60_000,
      'a replacement pod',
    );
    const fresh = after.filter((n) => !before.some((p) => p.metadata.name === n));
    expect(fresh).toHaveLength(1);
  }, 120_000);

  it('kubectl scale --replicas=3 leaves 3', async () => {
    const r = await sim.kubectl([
      'scale',
      'deployment/web-server-deployment',
      '-n',
      NS,
      '--replicas=3',
    ]);
    expect(r.stdout).toContain('deployment.apps/web-server-deployment scaled');
    const left = await eventually(
      async () => {
        const all = await pods();
        return all.length === 3 ? all : undefined;
      },
      60_000,
      'three pods',
    );
    expect(left).toHaveLength(3);
  }, 120_000);

  it('kubectl get svc,endpoints,events', async () => {
    const r = await sim.kubectl(['get', 'svc,endpoints,events', '-n', NS]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(
      /service\/web-server-service\s+ClusterIP\s+127\.\d+\.(1\d\d|2\d\d)\.\d+/,
    );
    expect(r.stdout).toMatch(/endpoints\/web-server-service\s+127\.\d+\.\d+\.\d+:8080/);
    expect(r.stdout).toMatch(/Scheduled|SuccessfulCreate/);
  });

  it('kubectl delete namespace stops every replica process, then goes when the namespace controller looks again', async () => {
    // As kube-controller-manager does: a first pass 5 s after the deletion finds the pods
    // still draining (preStop 5 s); the next comes 5 s after the namespace's status changes
    // or half their 30 s grace period later, never when the last pod goes. So the
    // namespace outlives its pods: 10 to 26 s in all (26 s seen on a real kind cluster).
    expect(serverProcesses().length).toBeGreaterThan(0);
    const started = Date.now();
    const r = await sim.kubectl(['delete', 'namespace', NS, '--wait=false']);
    expect(r.stdout).toContain(`namespace "${NS}" deleted`);
    expect(r.exitCode).toBe(0);
    await eventually(
      () => Promise.resolve(serverProcesses().length === 0 ? true : undefined),
      60_000,
      'no server process',
    );
    const podsGone = Date.now() - started;
    await eventually(
      async () => {
        const gone = await sim.kubectl(['get', 'namespace', NS]);
        return gone.stderr.includes(`namespaces "${NS}" not found`) ? true : undefined;
      },
      60_000,
      'the namespace gone',
    );
    const namespaceGone = Date.now() - started;
    expect(podsGone).toBeLessThan(15_000);
    expect(namespaceGone).toBeGreaterThanOrEqual(10_000);
    expect(namespaceGone).toBeLessThan(30_000);
  }, 120_000);
});
