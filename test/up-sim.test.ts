import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireKubectl } from './helpers/sim.js';
import { CLI } from './fakes/harness.js';

/**
 * The real CLI and the real kubectl against the embedded cluster, as a learner without
 * kind would run it: `up --sim` twice, a namespace that is not ours, then `down --sim`.
 * One daemon for the whole file, started by `up --sim` itself.
 */

await requireKubectl();

let dir: string;
let home: string;

function env(): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: dir,
    // Nothing may read or write the person's kubeconfig: point the default at nothing.
    KUBECONFIG: path.join(dir, 'no-kubeconfig'),
    REPLICA_DEMO_HOME: home,
    REPLICA_DEMO_SIM_SEED: 'up-sim-test',
    NO_COLOR: '1',
  };
}

async function cli(args: string[]) {
  const r = await execa(process.execPath, [CLI, ...args], {
    reject: false,
    extendEnv: false,
    env: env(),
    stdin: 'ignore',
    timeout: 120_000,
  });
  return { code: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

async function kubectl(args: string[], input?: string) {
  const r = await execa(
    'kubectl',
    [
      ...args,
      '--kubeconfig',
      path.join(home, 'sim', 'kubeconfig'),
      '--context',
      'replica-demo-sim',
    ],
    {
      reject: false,
      extendEnv: false,
      env: env(),
      timeout: 30_000,
      ...(input !== undefined ? { input } : {}),
    },
  );
  return { code: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

function daemonPid(): number | undefined {
  try {
    return (
      JSON.parse(readFileSync(path.join(home, 'sim', 'state.json'), 'utf8')) as { pid?: number }
    ).pid;
  } catch {
    return undefined;
  }
}

/** The process and every process below it, read from /proc. */
function processTree(root: number): number[] {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone while reading
    }
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i += 1) {
    for (const [pid, ppid] of parents) if (ppid === tree[i]) tree.push(pid);
  }
  return tree;
}

const alive = (pid: number) =>
  existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'replica-demo-upsim-'));
  home = path.join(dir, 'home');
});

afterAll(async () => {
  // Whatever happened above, leave no daemon behind.
  if (daemonPid() !== undefined) {
    const control = await import('../src/cli/sim-control.js');
    await control.stopSim(home);
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('up and down on the embedded cluster with the real kubectl', () => {
  let firstPods: string[] = [];

  it('up --sim starts the embedded cluster and reaches 5/5 ready with a pod table', async () => {
    const r = await cli(['up', '--sim']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('Using the embedded cluster (replica-demo sim)');
    expect(r.stderr).toContain('Image steps skipped');
    expect(r.stderr).toMatch(/Started the embedded cluster on 127\.0\.0\.1:\d+/);
    expect(r.stderr).toContain('deployment.apps/web-server-deployment serverside-applied');
    expect(r.stderr).toMatch(/5\/5 replicas ready/);
    const rows = r.stdout.split('\n').filter((l) => l.startsWith('web-server-deployment-'));
    expect(rows).toHaveLength(5);
    for (const row of rows) {
      const [name, replica, ip, node, ready] = row.split(/\s+/);
      expect(replica).toBe(name?.split('-').at(-1));
      expect(ip).toMatch(/^127\.\d+\.\d\.\d+$/);
      expect(node).toMatch(/^replica-demo-(control-plane|worker\d*)$/);
      expect(ready).toBe('1/1');
    }
    firstPods = rows.map((row) => row.split(/\s+/)[0] ?? '').sort();
    const state = JSON.parse(readFileSync(path.join(home, 'state.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(state).toMatchObject({
      mode: 'sim',
      context: 'replica-demo-sim',
      namespace: 'multi-replica-web',
    });
  });

  it('up --sim --json prints one JSON object on stdout, and the rest on stderr', async () => {
    const r = await cli(['up', '--sim', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    const doc = JSON.parse(r.stdout) as {
      target: { mode: string; context: string; namespace: string };
      unchanged: boolean;
      changed: string[];
      ready: number;
      desired: number;
      pods: { name: string; replicaId: string; ready: string }[];
    };
    expect(doc.target).toMatchObject({
      mode: 'sim',
      context: 'replica-demo-sim',
      namespace: 'multi-replica-web',
    });
    expect(doc).toMatchObject({ unchanged: true, changed: [], ready: 5, desired: 5 });
    expect(doc.pods.map((p) => p.name).sort()).toEqual(firstPods);
    for (const p of doc.pods) expect(p.name.endsWith(`-${p.replicaId}`)).toBe(true);
    // The pod table a person reads went to stderr.
    expect(r.stderr).toContain(firstPods[0] ?? 'none');
  });

  it('a second up --sim changes nothing and says so', async () => {
    const before = await kubectl([
      'get',
      'deployment',
      'web-server-deployment',
      '-n',
      'multi-replica-web',
      '-o',
      'jsonpath={.metadata.resourceVersion}',
    ]);
    const r = await cli(['up', '--sim']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('embedded cluster running');
    expect(r.stderr).toContain('manifests unchanged on the cluster');
    expect(r.stderr).toContain('Nothing changed');
    expect(r.stderr).not.toContain('serverside-applied');
    const pods = r.stdout
      .split('\n')
      .filter((l) => l.startsWith('web-server-deployment-'))
      .map((l) => l.split(/\s+/)[0] ?? '')
      .sort();
    expect(pods).toEqual(firstPods);
    const after = await kubectl([
      'get',
      'deployment',
      'web-server-deployment',
      '-n',
      'multi-replica-web',
      '-o',
      'jsonpath={.metadata.resourceVersion}',
    ]);
    expect(after.stdout).toBe(before.stdout);
  });

  it('down refuses a namespace without our label, in one line, and leaves it', async () => {
    // The embedded cluster takes JSON and YAML bodies only, so apply rather than create.
    const created = await kubectl(
      ['apply', '-f', '-'],
      'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: someone-elses\n',
    );
    expect(created.code, created.stderr).toBe(0);
    const r = await cli(['down', '--sim', '--yes', '-n', 'someone-elses']);
    expect(r.code).toBe(10);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('lacks the label app.kubernetes.io/managed-by=replica-demo');
    expect((await kubectl(['get', 'namespace', 'someone-elses'])).code).toBe(0);
    expect(daemonPid()).toBeDefined();
  });

  it('up refuses a namespace it did not create, and leaves it unlabelled', async () => {
    const r = await cli(['up', '--sim', '-n', 'someone-elses']);
    expect(r.code).toBe(10);
    expect(r.stderr).toContain(
      'Namespace someone-elses already exists and was not created by replica-demo',
    );
    const ns = await kubectl(['get', 'namespace', 'someone-elses', '-o', 'json']);
    const labels = (JSON.parse(ns.stdout) as { metadata: { labels?: Record<string, string> } })
      .metadata.labels;
    expect(labels?.['app.kubernetes.io/managed-by']).toBeUndefined();
    expect(labels?.['pod-security.kubernetes.io/enforce']).toBeUndefined();
    const deployments = await kubectl(['get', 'deployments', '-n', 'someone-elses', '-o', 'name']);
    expect(deployments.stdout.trim()).toBe('');
  });

  let tree: number[] = [];

  it('down --sim --keep-cluster --yes removes the lesson namespace, and nothing else (exit 0)', async () => {
    const pid = daemonPid();
    expect(pid).toBeDefined();
    tree = processTree(pid ?? -1);
    // The daemon and its five server processes at least.
    expect(tree.length).toBeGreaterThanOrEqual(6);
    // Someone else's Service in someone else's namespace: down must leave both.
    const theirs = await kubectl(
      ['apply', '-f', '-'],
      'apiVersion: v1\nkind: Service\nmetadata:\n  name: theirs\n  namespace: someone-elses\nspec:\n  ports: [{port: 80}]\n',
    );
    expect(theirs.code, theirs.stderr).toBe(0);

    const r = await cli(['down', '--sim', '--keep-cluster', '--yes', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      target: {
        mode: 'sim',
        context: 'replica-demo-sim',
        namespace: 'multi-replica-web',
        cluster: null,
      },
      dryRun: false,
      namespaceExisted: true,
      deletedNamespace: true,
      stoppedSim: false,
      deletedCluster: false,
    });
    expect(r.stderr).toMatch(/Deleted namespace multi-replica-web/);
    expect(r.stderr).not.toContain('Stopped the embedded cluster');
    const lesson = await kubectl(['get', 'namespace', 'multi-replica-web']);
    expect(lesson.stderr).toContain('NotFound');
    expect((await kubectl(['get', 'service', 'theirs', '-n', 'someone-elses'])).code).toBe(0);
    // The replicas' processes are gone; the daemon runs on.
    expect(alive(pid ?? -1)).toBe(true);
    expect(tree.slice(1).filter(alive)).toEqual([]);
  });

  it('down --sim --yes stops the cluster and leaves no process', async () => {
    const r = await cli(['down', '--sim', '--yes']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('Namespace multi-replica-web does not exist');
    expect(r.stderr).toContain('Stopped the embedded cluster');
    expect(tree.filter(alive)).toEqual([]);
    expect(existsSync(path.join(home, 'sim', 'state.json'))).toBe(false);
    // A second `down` finds nothing left to remove.
    const again = await cli(['down', '--sim', '--yes']);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('The embedded cluster is not running: nothing to delete.');
  });

  it('up --sim interrupted after starting the embedded cluster says it is still running (exit 130)', async () => {
    const child = execa(process.execPath, [CLI, 'up', '--sim'], {
      reject: false,
      extendEnv: false,
      env: env(),
      stdin: 'ignore',
      timeout: 120_000,
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      const before = stderr;
      stderr += chunk.toString();
      if (
        !before.includes('Started the embedded cluster') &&
        stderr.includes('Started the embedded cluster')
      ) {
        child.kill('SIGINT');
      }
    });
    const r = await child;
    expect(r.exitCode, stderr).toBe(130);
    const last = stderr.trim().split('\n').at(-1) ?? '';
    expect(last).toMatch(/^Error: Interrupted/);
    expect(last).toContain(
      'The embedded cluster this run started is still running; `npx replica-demo down --sim --yes` stops it.',
    );
    expect(daemonPid()).toBeDefined();
    const down = await cli(['down', '--sim', '--yes']);
    expect(down.code, down.stderr).toBe(0);
    expect(daemonPid()).toBeUndefined();
  });
});
