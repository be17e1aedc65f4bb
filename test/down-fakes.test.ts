import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execaSync } from 'execa';
import { commandLines, sandbox, type Sandbox } from './fakes/harness.js';

const hasPython = execaSync('python3', ['--version'], { reject: false }).exitCode === 0;

/**
 * `down` against fake kubectl and kind: which commands it runs, in which order, and what it
 * refuses. The deletion goes through kubectl; the wait until the namespace is gone goes
 * through the API, which here is a dead address, so a run that gets that far ends with
 * exit 8. Its happy ending (exit 0, the namespace gone, nothing else touched) is tested on
 * the embedded cluster, in up-sim.test.ts.
 */

let box: Sandbox;
beforeAll(() => {
  box = sandbox();
});
afterAll(() => box.cleanup());

const ours = [
  {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: 'multi-replica-web',
      labels: { 'app.kubernetes.io/managed-by': 'replica-demo' },
    },
  },
];

function homeWith(state: Record<string, unknown>): string {
  const home = path.join(box.dir, `home-${Math.random().toString(36).slice(2)}`);
  mkdirSync(home);
  writeFileSync(path.join(home, 'state.json'), JSON.stringify(state), { mode: 0o600 });
  return home;
}

/** `down --yes` where `up` left namespace lesson-ns on kind cluster "lesson" (ours, by label). */
function downOnSavedLesson(env: Record<string, string>) {
  const home = homeWith({
    mode: 'kind',
    context: 'kind-lesson',
    cluster: 'lesson',
    namespace: 'lesson-ns',
  });
  const ns = [{ ...ours[0], metadata: { ...ours[0]!.metadata, name: 'lesson-ns' } }];
  return box.run(['down', '--yes'], {
    home,
    env: {
      FAKE_KIND_CLUSTERS: 'lesson',
      FAKE_KUBECTL_GET_FILE: box.writeJson(`${path.basename(home)}-ns.json`, ns),
      ...env,
    },
  });
}

describe('down with fake tools', () => {
  it('deletes our namespace on the saved context; an API that does not answer the wait is exit 8', async () => {
    const r = await downOnSavedLesson({});
    expect(commandLines(r.calls)).toEqual([
      'kind get clusters',
      'kubectl version --client',
      'kubectl get namespace/lesson-ns --namespace lesson-ns --ignore-not-found --output json --context kind-lesson',
      // The Deployment's image, read before it goes: images from `up --registry` stay there.
      'kubectl get deployment/web-server-deployment --namespace lesson-ns --ignore-not-found --output json --context kind-lesson',
      'kubectl delete deployments,replicasets,jobs,pods --all --namespace lesson-ns --wait=true --timeout=120s --context kind-lesson',
      'kubectl delete namespace lesson-ns --wait=false --context kind-lesson',
    ]);
    expect(r.code, r.stderr).toBe(8);
    expect(r.stderr).toMatch(/API server of context kind-lesson is not reachable/);
  });

  it('goes on to delete the namespace when stopping the pods first fails', async () => {
    const r = await downOnSavedLesson({ FAKE_KUBECTL_DELETE_WORKLOADS_FAIL: '1' });
    expect(r.stderr).toMatch(/Could not stop the pods in lesson-ns first .*timed out/);
    expect(commandLines(r.calls)).toContain(
      'kubectl delete namespace lesson-ns --wait=false --context kind-lesson',
    );
  });

  it('says there is nothing to delete when the namespace is absent, and exits 0', async () => {
    const r = await box.run(['down', '--yes', '--cluster', 'kind']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('Namespace multi-replica-web does not exist on context kind-kind');
    expect(commandLines(r.calls).some((l) => l.startsWith('kubectl delete'))).toBe(false);
  });

  it('--dry-run prints the deletion and runs only kubectl get', async () => {
    const r = await box.run(['down', '--dry-run', '--cluster', 'kind'], {
      env: { FAKE_KUBECTL_GET_FILE: box.writeJson('ours.json', ours) },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      'would run: kubectl delete deployments,replicasets,jobs,pods --all --namespace multi-replica-web --wait=true --timeout=120s --context kind-kind',
    );
    expect(r.stdout).toContain(
      'would run: kubectl delete namespace multi-replica-web --wait=false --context kind-kind',
    );
    expect(
      commandLines(r.calls).filter(
        (l) =>
          !l.startsWith('kubectl version') &&
          !l.startsWith('kubectl get') &&
          !l.startsWith('kind get clusters'),
      ),
    ).toEqual([]);
  });

  it('--delete-cluster deletes the kind cluster up --create-cluster made, and forgets it', async () => {
    const home = homeWith({
      mode: 'kind',
      context: 'kind-fresh',
      cluster: 'fresh',
      namespace: 'multi-replica-web',
      createdCluster: true,
    });
    const r = await box.run(['down', '--delete-cluster', '--yes'], {
      home,
      env: { FAKE_KIND_CLUSTERS: 'fresh' },
    });
    expect(r.code, r.stderr).toBe(0);
    expect(commandLines(r.calls)).toEqual([
      'kind get clusters',
      'kubectl version --client',
      'kind delete cluster --name fresh',
    ]);
    expect(existsSync(path.join(home, 'state.json'))).toBe(false);
  });

  it('--delete-cluster refuses a cluster it did not create, even one it used', async () => {
    const home = homeWith({
      mode: 'kind',
      context: 'kind-kind',
      cluster: 'kind',
      namespace: 'multi-replica-web',
    });
    const r = await box.run(['down', '--delete-cluster', '--yes'], { home });
    expect(r.code).toBe(9);
    expect(r.calls).toEqual([]);
    expect(existsSync(path.join(home, 'state.json'))).toBe(true);
  });

  it('with something to delete and no terminal, looks, then refuses without --yes (exit 9)', async () => {
    const r = await box.run(['down'], {
      env: { FAKE_KUBECTL_GET_FILE: box.writeJson('ours-no-yes.json', ours) },
    });
    expect(r.code, r.stderr).toBe(9);
    const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
    expect(lines.at(-1)).toMatch(
      /`down` would delete namespace multi-replica-web \(context kind-kind\), and there is no terminal to confirm it; pass --yes/,
    );
    expect(commandLines(r.calls).some((l) => l.startsWith('kubectl delete'))).toBe(false);
  });

  it('with no cluster at all, says there is nothing to remove and needs no --yes (exit 0)', async () => {
    const r = await box.run(['down'], { env: { FAKE_KIND_CLUSTERS: '' } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      'Nothing to remove: no kind cluster was found and the embedded cluster is not running.',
    );
    expect(commandLines(r.calls).filter((l) => !/^(kind|docker) /.test(l))).toEqual([]);
  });

  it('with a saved kind cluster that is gone, says so instead of a kubectl error (exit 0)', async () => {
    const r = await downOnSavedLesson({ FAKE_KIND_CLUSTERS: 'kind' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('kind cluster "lesson" does not exist: nothing to delete.');
    expect(commandLines(r.calls)).toEqual(['kind get clusters']);
  });

  describe.skipIf(!hasPython)(
    'at a terminal (skipped: python3, used for the pseudo-terminal, is missing)',
    () => {
      const state = {
        mode: 'kind',
        context: 'kind-lesson',
        cluster: 'lesson',
        namespace: 'lesson-ns',
      };
      const ns = [{ ...ours[0], metadata: { ...ours[0]!.metadata, name: 'lesson-ns' } }];

      it('asks y/N before deleting, and "n" deletes nothing', async () => {
        const r = await box.run(['down'], {
          home: homeWith(state),
          env: {
            FAKE_KIND_CLUSTERS: 'lesson',
            FAKE_KUBECTL_GET_FILE: box.writeJson('ns-n.json', ns),
          },
          terminalAnswer: 'n',
        });
        expect(r.stdout).toContain('Delete namespace lesson-ns (context kind-lesson)? [y/N]');
        expect(r.code).toBe(9);
        expect(r.stdout).toContain('Not confirmed: nothing was deleted.');
        // Declining is an answer, not an error.
        expect(r.stdout).not.toContain('Error:');
        expect(commandLines(r.calls).some((l) => l.startsWith('kubectl delete'))).toBe(false);
      });

      it('"y" deletes the namespace', async () => {
        const r = await box.run(['down'], {
          home: homeWith(state),
          env: {
            FAKE_KIND_CLUSTERS: 'lesson',
            FAKE_KUBECTL_GET_FILE: box.writeJson('ns-y.json', ns),
          },
          terminalAnswer: 'y',
        });
        expect(r.stdout).toContain('[y/N]');
        expect(commandLines(r.calls)).toContain(
          'kubectl delete namespace lesson-ns --wait=false --context kind-lesson',
        );
      });
    },
  );
});

describe('blast and kill-pod with no cluster to use', () => {
  it.each([['blast'], ['kill-pod']])(
    '%s names both ways to get one, in one line (exit 7)',
    async (command) => {
      const r = await box.run([command], { env: { FAKE_KIND_CLUSTERS: '' } });
      expect(r.code, r.stderr).toBe(7);
      const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        /No cluster to use: no kind cluster was found and the embedded cluster is not running\. Run `npx replica-demo up --sim` .* or `npx replica-demo up` for kind\./,
      );
      expect(lines[0]).not.toContain('kind export kubeconfig');
    },
  );
});
