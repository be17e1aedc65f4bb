import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode, InterruptedError, TimeoutError } from '../src/cli/errors.js';
import { connect } from '../src/cli/kube/api.js';
import { waitForNamespaceGone, waitForRollout } from '../src/cli/kube/rollout.js';
import { loadManifests, renderManifests, toYamlStream } from '../src/cli/core/manifests.js';
import { requireKubectl, startTestSim, type TestSim } from './helpers/sim.js';

/**
 * The watch-based wait against the embedded cluster's API: it sees a rollout finish, and
 * when one cannot finish it says why in plain words, naming the object.
 */

await requireKubectl();

let sim: TestSim;
beforeAll(async () => {
  sim = await startTestSim({ seed: 'up-wait' });
});
afterAll(async () => {
  if (sim) expect(await sim.stop()).toEqual([]);
});

async function apply(
  namespace: string,
  image: string,
  replicas: number,
  mutate?: (yaml: string) => string,
) {
  const objects = renderManifests(loadManifests(), { image, replicas, namespace });
  const yaml = toYamlStream(objects);
  const r = await sim.kubectl(
    ['--context', 'replica-demo-sim', 'apply', '--server-side', '-f', '-'],
    {
      input: mutate ? mutate(yaml) : yaml,
    },
  );
  expect(r.exitCode, r.stderr).toBe(0);
}

const api = (namespace: string) =>
  connect({
    mode: 'sim',
    context: 'replica-demo-sim',
    kubeconfig: sim.kubeconfigPath,
    namespace,
  });
const progressTexts: string[] = [];
const options = (
  namespace: string,
  desired: number,
  timeoutMs: number,
  signal = new AbortController().signal,
) => ({
  namespace,
  desired,
  timeoutMs,
  signal,
  onProgress: (text: string) => progressTexts.push(text),
  diagnosis: { embedded: true },
});

describe('waiting on the embedded cluster', () => {
  it('follows a rollout to ready = desired, showing ready/desired', async () => {
    // A short grace period: the last test deletes this namespace, and waits for its pods.
    await apply('wait-ok', 'multi-replica-app:test', 2, (yaml) =>
      yaml.replace(/terminationGracePeriodSeconds: \d+/, 'terminationGracePeriodSeconds: 1'),
    );
    const result = await waitForRollout(api('wait-ok'), options('wait-ok', 2, 60_000));
    expect(result).toMatchObject({ ready: 2, desired: 2, done: true });
    expect(progressTexts.some((t) => /^[0-2]\/2 ready/.test(t))).toBe(true);
  });

  it('times out on an image the cluster cannot run, and names the pod and the image', async () => {
    await apply('wait-image', 'nginx:1.27', 1);
    const error = await waitForRollout(api('wait-image'), options('wait-image', 1, 4_000)).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).exitCode).toBe(ExitCode.Timeout);
    // While stuck, the progress line carries the latest pod event.
    expect(
      progressTexts.some((t) => /^0\/1 ready · \w+ web-server-deployment-\S+: /.test(t)),
      progressTexts.join('\n'),
    ).toBe(true);
    expect((error as TimeoutError).message).toMatch(
      /^Deployment web-server-deployment in namespace wait-image has 0\/1 replicas ready after 4 s\. Pod web-server-deployment-\S+ cannot get image nginx:1\.27 \((ErrImagePull|ImagePullBackOff)\)/,
    );
  });

  it('times out on a pod template Pod Security rejects, and says so from the ReplicaSet event', async () => {
    // Drop the pod-level runAsNonRoot: the restricted profile then refuses every pod.
    await apply('wait-psa', 'multi-replica-app:test', 1, (yaml) =>
      yaml.replace(/runAsNonRoot: true/g, 'runAsNonRoot: false'),
    );
    const error = await waitForRollout(api('wait-psa'), options('wait-psa', 1, 4_000)).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as Error).message).toMatch(
      /ReplicaSet web-server-deployment-\S+ cannot create pods: Pod Security rejects the pod template/,
    );
  });

  it('stops at once on Ctrl-C and says how far it got', async () => {
    await apply('wait-abort', 'nginx:1.27', 1);
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 300);
    const started = Date.now();
    const error = await waitForRollout(
      api('wait-abort'),
      options('wait-abort', 1, 60_000, abort.signal),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InterruptedError);
    expect((error as Error).message).toContain('0/1 replicas were ready');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('waits for a deleted namespace to be gone', async () => {
    const r = await sim.kubectl([
      '--context',
      'replica-demo-sim',
      'delete',
      'namespace',
      'wait-ok',
      '--wait=false',
    ]);
    expect(r.exitCode, r.stderr).toBe(0);
    // Still there, with its two pods, when the wait begins: there is something to wait for.
    const phase = await sim.kubectl([
      '--context',
      'replica-demo-sim',
      'get',
      'namespace',
      'wait-ok',
      '-o',
      'jsonpath={.status.phase}',
    ]);
    expect(phase.stdout).toBe('Terminating');
    const texts: string[] = [];
    const started = Date.now();
    const elapsed = await waitForNamespaceGone(api('wait-ok'), {
      timeoutMs: 60_000,
      signal: new AbortController().signal,
      onProgress: (t) => texts.push(t),
    });
    const took = Date.now() - started;
    // The time it reports is the time it waited, in milliseconds.
    expect(elapsed).toBeLessThanOrEqual(took);
    expect(elapsed).toBeGreaterThan(took - 1000);
    expect(texts[0]).toBe('namespace wait-ok: Terminating, 2 pod(s) left');
    const after = await sim.kubectl([
      '--context',
      'replica-demo-sim',
      'get',
      'namespace',
      'wait-ok',
    ]);
    expect(after.exitCode).not.toBe(0);
    expect(after.stderr).toContain('NotFound');
  });
});
