import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Leftovers, type Context } from '../src/cli/context.js';
import { ExitCode, RefusedError, UsageError } from '../src/cli/errors.js';
import { createPrinter } from '../src/cli/output.js';
import { loadManifests, renderManifests } from '../src/cli/core/manifests.js';
import { contains, objectsToChange } from '../src/cli/core/apply-diff.js';
import { formatCommand } from '../src/cli/core/command-line.js';
import {
  diagnoseRollout,
  latestEventText,
  rolloutProgress,
  rolloutProgressText,
  summarizeEvent,
  summarizePod,
} from '../src/cli/core/rollout.js';
import { validateDownOptions, validateUpOptions } from '../src/cli/core/validate.js';
import type { DownFlags, UpFlags } from '../src/cli/core/flags.js';
import { parse, parseError } from './helpers/parse.js';
import { formatAge, podRows, renderPodTable } from '../src/cli/render/pods.js';
import { replicaId } from '../src/cli/core/curl-log.js';
import { loadState, resolveTarget, saveState, statePath } from '../src/cli/target.js';
import { normalizeImageRef, parseCrictlImages } from '../src/cli/tools/docker.js';
import { parseObjectList } from '../src/cli/tools/kubectl.js';
import { apiErrorMessage, isNotFound, isUnreachable } from '../src/cli/kube/errors.js';
import { ApiException } from '@kubernetes/client-node';

const homes: string[] = [];
afterAll(() => {
  for (const h of homes) rmSync(h, { recursive: true, force: true });
});

function testContext(): Context {
  const home = mkdtempSync(path.join(os.tmpdir(), 'replica-demo-core-'));
  homes.push(home);
  const sink = { write: () => true } as unknown as NodeJS.WritableStream;
  return {
    printer: createPrinter({
      stdout: sink as never,
      stderr: sink as never,
      interactive: false,
      color: false,
    }),
    env: {},
    cwd: home,
    home,
    signal: new AbortController().signal,
    interactive: false,
    now: () => Date.parse('2026-01-01T00:00:00Z'),
    random: () => 0.5,
    leftovers: new Leftovers(),
    ask: () => Promise.resolve(undefined),
  };
}

const upOptions = async (...argv: string[]) =>
  validateUpOptions((await parse(['up', ...argv])).flags as unknown as UpFlags);
const downOptions = async (...argv: string[]) =>
  validateDownOptions((await parse(['down', ...argv])).flags as unknown as DownFlags);

describe('validateUpOptions', () => {
  it('fills in the defaults', async () => {
    expect(await upOptions()).toEqual({
      sim: false,
      namespace: 'multi-replica-web',
      replicas: 5,
      timeoutSeconds: 180,
      createCluster: false,
      build: true,
      dryRun: false,
      yes: false,
    });
  });

  it('takes the edges of the replica range and refuses just past them', async () => {
    expect((await upOptions('--replicas', '1')).replicas).toBe(1);
    expect((await upOptions('--replicas', '50')).replicas).toBe(50);
    expect(await parseError(['up', '--replicas', '51'])).toBeInstanceOf(UsageError);
    expect((await parseError(['up', '--replicas', '0'])).message).toMatch(
      /--replicas 0 is out of range/,
    );
  });

  it('accepts a 49-character cluster name and a 63-character namespace', async () => {
    expect((await upOptions('--cluster', 'a'.repeat(49))).cluster).toHaveLength(49);
    expect((await upOptions('-n', `a${'-'.repeat(61)}b`)).namespace).toHaveLength(63);
  });

  it('refuses a --context holding control characters, or longer than 253', async () => {
    expect((await parseError(['up', '--context', 'kind-kind\nprod'])).message).toMatch(/--context/);
    expect((await parseError(['up', '--context', 'kind-\u001b[31m'])).message).toMatch(/--context/);
    expect((await parseError(['up', '--context', `kind-${'a'.repeat(249)}`])).message).toMatch(
      /--context/,
    );
    expect((await upOptions('--context', `kind-${'a'.repeat(248)}`)).context).toHaveLength(253);
  });

  it('allows --cluster with its own kind context', async () => {
    expect(await upOptions('--cluster', 'x', '--context', 'kind-x')).toMatchObject({
      cluster: 'x',
      context: 'kind-x',
    });
  });

  it('takes --base-image from REPLICA_DEMO_BASE_IMAGE, checked like the flag', async () => {
    expect((await parse(['up'], { REPLICA_DEMO_BASE_IMAGE: 'node:20' })).flags.baseImage).toBe(
      'node:20',
    );
    const refused = await parse(['up'], { REPLICA_DEMO_BASE_IMAGE: 'two words' }).catch(
      (e: unknown) => e as Error,
    );
    expect(refused).toBeInstanceOf(UsageError);
    expect((refused as Error).message).toMatch(
      /^--base-image "two words".*REPLICA_DEMO_BASE_IMAGE/,
    );
  });
});

describe('validateDownOptions', () => {
  it('reads --delete-cluster, --dry-run and --yes', async () => {
    expect(await downOptions('--delete-cluster', '--yes', '--timeout', '30')).toMatchObject({
      deleteCluster: true,
      yes: true,
      dryRun: false,
      timeoutSeconds: 30,
    });
  });

  it('reads --keep-cluster, and refuses it together with --delete-cluster', async () => {
    expect(await downOptions('--sim', '--keep-cluster')).toMatchObject({
      keepCluster: true,
      deleteCluster: false,
    });
    expect((await parseError(['down', '--keep-cluster', '--delete-cluster'])).message).toMatch(
      /--keep-cluster.*cannot be used with.*--delete-cluster/,
    );
  });
});

describe('objectsToChange', () => {
  const rendered = renderManifests(loadManifests(), {
    image: 'multi-replica-app:abc',
    replicas: 5,
    namespace: 'ns',
  });

  it('finds nothing to change when the live objects hold every rendered field plus server defaults', () => {
    const live = structuredClone(rendered).map((o) => ({
      ...o,
      metadata: {
        ...o.metadata,
        uid: 'x',
        resourceVersion: '3',
        labels: { ...o.metadata.labels, extra: 'y' },
      },
      status: { phase: 'Active' },
    }));
    expect(objectsToChange(rendered, live)).toEqual([]);
  });

  it('names a missing object and a changed image', () => {
    const live = structuredClone(rendered).filter((o) => o.kind !== 'Service');
    const deployment = live.find((o) => o.kind === 'Deployment') as unknown as {
      spec: { template: { spec: { containers: { image: string }[] } } };
    };
    deployment.spec.template.spec.containers[0]!.image = 'multi-replica-app:old';
    expect(objectsToChange(rendered, live)).toEqual([
      { kind: 'Deployment', name: 'web-server-deployment' },
      { kind: 'Service', name: 'web-server-service' },
    ]);
  });

  it('treats a list of another length as a change', () => {
    expect(contains({ a: [1, 2, 3] }, { a: [1, 2] })).toBe(false);
    expect(contains({ a: [{ x: 1, y: 2 }] }, { a: [{ x: 1 }] })).toBe(true);
    expect(
      contains({ t: new Date('2026-01-01T00:00:00.000Z') }, { t: '2026-01-01T00:00:00.000Z' }),
    ).toBe(true);
  });
});

describe('rolloutProgress', () => {
  const deployment = (status: Record<string, number>, generation = 2) => ({
    metadata: { generation },
    spec: { replicas: 5 },
    status: { observedGeneration: 2, ...status },
  });

  it('is done only when all replicas are updated, ready and available with no old pod left', () => {
    expect(
      rolloutProgress(
        deployment({ replicas: 5, updatedReplicas: 5, readyReplicas: 5, availableReplicas: 5 }),
        5,
      ).done,
    ).toBe(true);
    expect(
      rolloutProgress(
        deployment({ replicas: 6, updatedReplicas: 5, readyReplicas: 5, availableReplicas: 5 }),
        5,
      ).done,
    ).toBe(false);
    expect(
      rolloutProgress(
        deployment({ replicas: 5, updatedReplicas: 5, readyReplicas: 4, availableReplicas: 4 }),
        5,
      ),
    ).toEqual({
      ready: 4,
      desired: 5,
      done: false,
    });
  });

  it('counts only ready pods of the current template during a surge, never above desired', () => {
    // Five old pods ready, one new pod ready: readyReplicas is 6 while 1 runs the new template.
    expect(
      rolloutProgress(
        deployment({ replicas: 6, updatedReplicas: 1, readyReplicas: 6, availableReplicas: 6 }),
        5,
      ),
    ).toEqual({ ready: 1, desired: 5, done: false });
    // All five new pods ready, one old pod still terminating and counted ready.
    expect(
      rolloutProgress(
        deployment({ replicas: 6, updatedReplicas: 5, readyReplicas: 6, availableReplicas: 6 }),
        5,
      ),
    ).toEqual({ ready: 5, desired: 5, done: false });
    // Scaling down from 7: the counts may briefly exceed desired; the display never does.
    expect(
      rolloutProgress(
        deployment({ replicas: 7, updatedReplicas: 7, readyReplicas: 7, availableReplicas: 7 }),
        5,
      ).ready,
    ).toBe(5);
  });

  it('is not done while the controller has not seen the latest generation', () => {
    expect(
      rolloutProgress(
        deployment({ replicas: 5, updatedReplicas: 5, readyReplicas: 5, availableReplicas: 5 }, 3),
        5,
      ).done,
    ).toBe(false);
    expect(rolloutProgress(undefined, 5).done).toBe(false);
  });
});

describe('diagnoseRollout', () => {
  const pod = (name: string, reason?: string, message?: string) =>
    summarizePod({
      metadata: { name },
      spec: { containers: [{ name: 'web', image: 'multi-replica-app:abc' }] },
      status: {
        containerStatuses: [
          {
            name: 'web',
            ready: false,
            restartCount: 0,
            state: reason ? { waiting: { reason, ...(message ? { message } : {}) } } : {},
          },
        ],
      },
    });

  it('asks whether the image was loaded into this cluster, once for five pods', () => {
    const pods = ['a', 'b', 'c', 'd', 'e'].map((n) => pod(`web-${n}`, 'ErrImageNeverPull'));
    const reasons = diagnoseRollout(pods, [], { cluster: 'lesson' });
    expect(reasons).toEqual([
      'Pod web-a cannot get image multi-replica-app:abc (ErrImageNeverPull): was it loaded into this cluster? (`kind load docker-image multi-replica-app:abc --name lesson`)',
    ]);
  });

  it('explains a Pod Security FailedCreate on the ReplicaSet', () => {
    const event = summarizeEvent({
      involvedObject: { kind: 'ReplicaSet', name: 'web-server-deployment-abc' },
      reason: 'FailedCreate',
      type: 'Warning',
      message:
        'pods "x" is forbidden: violates PodSecurity "restricted:latest": runAsNonRoot != true',
      lastTimestamp: '2026-01-01T00:00:00Z',
    });
    expect(diagnoseRollout([], [event])[0]).toMatch(
      /^ReplicaSet web-server-deployment-abc cannot create pods: Pod Security rejects/,
    );
  });

  it('names CreateContainerConfigError, a crash loop and a failing probe', () => {
    const events = [
      summarizeEvent({
        involvedObject: { kind: 'Pod', name: 'web-c' },
        reason: 'Unhealthy',
        message: 'Readiness probe failed: HTTP probe failed with statuscode: 503',
      }),
    ];
    const reasons = diagnoseRollout(
      [
        pod('web-a', 'CreateContainerConfigError', 'secret "x" not found'),
        pod('web-b', 'CrashLoopBackOff'),
        pod('web-c'),
      ],
      events,
    );
    expect(reasons).toEqual([
      'Pod web-a cannot start container web (CreateContainerConfigError): secret "x" not found',
      'Pod web-b keeps crashing (CrashLoopBackOff, 0 restarts): see `kubectl logs --previous web-b`',
      'Pod web-c: a probe is failing (Readiness probe failed: HTTP probe failed with statuscode: 503)',
    ]);
  });

  it('says so when no pod exists at all', () => {
    expect(diagnoseRollout([], [])).toEqual([
      'no pod of it exists yet, and no ReplicaSet event says why',
    ]);
  });

  it('shows the newest pod event for the spinner', () => {
    const older = summarizeEvent({
      involvedObject: { kind: 'Pod', name: 'p1' },
      reason: 'Scheduled',
      message: 'a',
      lastTimestamp: '2026-01-01T00:00:00Z',
    });
    const newer = summarizeEvent({
      involvedObject: { kind: 'Pod', name: 'p2' },
      reason: 'Started',
      message: 'b',
      lastTimestamp: '2026-01-01T00:00:05Z',
    });
    expect(latestEventText([newer, older])).toBe('Started p2: b');
  });

  const at = (iso: string) => Date.parse(iso);
  const probeFailedOld = summarizeEvent({
    involvedObject: { kind: 'Pod', name: 'web-old' },
    reason: 'Unhealthy',
    type: 'Warning',
    message: 'Startup probe failed: connection refused',
    lastTimestamp: '2026-01-01T10:00:00Z',
  });
  const createFailedOld = summarizeEvent({
    involvedObject: { kind: 'ReplicaSet', name: 'web-server-deployment-old' },
    reason: 'FailedCreate',
    type: 'Warning',
    message: 'exceeded quota',
    lastTimestamp: '2026-01-01T10:00:00Z',
  });
  const scheduledNow = summarizeEvent({
    involvedObject: { kind: 'Pod', name: 'web-new' },
    reason: 'Scheduled',
    message: 'assigned to node-1',
    lastTimestamp: '2026-01-01T11:00:00Z',
  });

  it('leaves events from before the wait out of the spinner text', () => {
    const since = at('2026-01-01T11:00:00.400Z');
    // Same second as the start of the wait: event times have one-second resolution.
    expect(latestEventText([probeFailedOld, scheduledNow], since)).toBe(
      'Scheduled web-new: assigned to node-1',
    );
    expect(latestEventText([probeFailedOld], since)).toBeUndefined();
    expect(latestEventText([probeFailedOld])).toMatch(/^starting web-old/);
  });

  it('never blames a timeout on an event from before the wait', () => {
    const since = at('2026-01-01T11:00:00Z');
    const newPod = pod('web-new');
    expect(diagnoseRollout([newPod], [probeFailedOld, createFailedOld], {}, since)).toEqual([]);
    // The same events within the wait are the diagnosis.
    const reasons = diagnoseRollout(
      [newPod],
      [probeFailedOld, createFailedOld],
      {},
      at('2026-01-01T09:59:00Z'),
    );
    expect(reasons).toEqual([
      'ReplicaSet web-server-deployment-old cannot create pods: exceeded quota',
      'Pod web-old: a probe is failing (Startup probe failed: connection refused)',
    ]);
  });

  it('shows no event next to all replicas ready', () => {
    const since = at('2026-01-01T09:00:00Z');
    expect(rolloutProgressText({ ready: 5, desired: 5, done: true }, [probeFailedOld], since)).toBe(
      '5/5 ready',
    );
    expect(
      rolloutProgressText({ ready: 3, desired: 5, done: false }, [probeFailedOld], since),
    ).toBe('3/5 ready · starting web-old: its startup probe has not passed yet');
    expect(
      rolloutProgressText(
        { ready: 3, desired: 5, done: false },
        [probeFailedOld],
        at('2026-01-01T11:00:00Z'),
      ),
    ).toBe('3/5 ready');
  });
});

describe('pod table', () => {
  const now = Date.parse('2026-01-01T01:00:00Z');
  const pods = [
    {
      metadata: {
        name: 'web-server-deployment-7d9f8c6b5d-xk2lp',
        creationTimestamp: new Date('2026-01-01T00:58:30Z'),
      },
      spec: { nodeName: 'replica-demo-worker' },
      status: { podIP: '127.10.1.2', containerStatuses: [{ ready: true, restartCount: 1 }] },
    },
    {
      metadata: {
        name: 'web-server-deployment-7d9f8c6b5d-aaaaa',
        creationTimestamp: '2026-01-01T00:59:55Z',
      },
      spec: { nodeName: 'replica-demo-worker2' },
      status: { podIP: '127.10.2.2', containerStatuses: [{ ready: false, restartCount: 0 }] },
    },
    { metadata: { name: 'gone', deletionTimestamp: '2026-01-01T00:59:00Z' } },
  ];

  it('makes one row per live pod, sorted, with the replica id from the name', () => {
    expect(podRows(pods, now)).toEqual([
      {
        name: 'web-server-deployment-7d9f8c6b5d-aaaaa',
        replicaId: 'aaaaa',
        podIP: '127.10.2.2',
        node: 'replica-demo-worker2',
        ready: '0/1',
        restarts: 0,
        age: '5s',
      },
      {
        name: 'web-server-deployment-7d9f8c6b5d-xk2lp',
        replicaId: 'xk2lp',
        podIP: '127.10.1.2',
        node: 'replica-demo-worker',
        ready: '1/1',
        restarts: 1,
        age: '1m30s',
      },
    ]);
  });

  it('aligns plain columns for logs and draws a box for terminals', () => {
    const plain = renderPodTable(podRows(pods, now), { boxed: false }).split('\n');
    expect(plain[0]?.split(/ {3,}/)).toEqual([
      'NAME',
      'REPLICA',
      'POD IP',
      'NODE',
      'READY',
      'RESTARTS',
      'AGE',
    ]);
    expect(plain[2]?.indexOf('replica-demo-worker ')).toBe(plain[0]?.indexOf('NODE'));
    expect(plain[2]?.indexOf('1m30s')).toBe(plain[0]?.indexOf('AGE'));
    expect(renderPodTable(podRows(pods, now), { boxed: true })).toContain('┌');
  });

  it('formats ages like kubectl', () => {
    expect([0, 59_000, 61_000, 600_000, 3_600_000, 3_660_000, 90_000_000].map(formatAge)).toEqual([
      '0s',
      '59s',
      '1m1s',
      '10m',
      '1h',
      '1h1m',
      '1d',
    ]);
    expect(replicaId('a-b-c')).toBe('c');
  });
});

describe('tool output parsing', () => {
  it('reads containerd image tags in their full form', () => {
    const tags = parseCrictlImages(
      JSON.stringify({
        images: [
          {
            repoTags: [
              'docker.io/library/multi-replica-app:abc',
              'docker.io/curlimages/curl:8.11.1',
            ],
          },
        ],
      }),
    );
    expect(tags.has(normalizeImageRef('multi-replica-app:abc'))).toBe(true);
    expect(tags.has(normalizeImageRef('curlimages/curl:8.11.1'))).toBe(true);
    expect(tags.has(normalizeImageRef('multi-replica-app:other'))).toBe(false);
    expect(normalizeImageRef('registry.local:5000/x:1')).toBe('registry.local:5000/x:1');
    expect(parseCrictlImages('not json').size).toBe(0);
  });

  it('reads kubectl lists, single objects and empty output', () => {
    expect(parseObjectList('')).toEqual([]);
    expect(parseObjectList('{"kind":"List","items":[{"kind":"Namespace"}]}')).toEqual([
      { kind: 'Namespace' },
    ]);
    expect(parseObjectList('{"kind":"Namespace"}')).toEqual([{ kind: 'Namespace' }]);
  });

  it('formats a command for people, quoting what a shell would split', () => {
    expect(formatCommand('kind', ['load', 'docker-image', 'a:b', '--name', 'kind'])).toBe(
      'kind load docker-image a:b --name kind',
    );
    expect(formatCommand('docker', ['info', '--format', '{{.ServerVersion}}'])).toBe(
      "docker info --format '{{.ServerVersion}}'",
    );
  });
});

describe('API errors', () => {
  it('takes the Status message from the raw body text', () => {
    const error = new ApiException(
      404,
      'Not Found',
      '{"kind":"Status","message":"namespaces \\"x\\" not found","code":404}',
      {},
    );
    expect(apiErrorMessage(error)).toBe('namespaces "x" not found');
    expect(isNotFound(error)).toBe(true);
    expect(isUnreachable(error)).toBe(false);
  });

  it('recognises a refused connection through the cause chain', () => {
    const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), {
      code: 'ECONNREFUSED',
    });
    const error = new Error('request failed', { cause });
    expect(isUnreachable(error)).toBe(true);
    expect(apiErrorMessage(error)).toBe('request failed (connect ECONNREFUSED 127.0.0.1:1)');
  });
});

describe('target and state', () => {
  it('saves the state with mode 0600 and reads it back', async () => {
    const ctx = testContext();
    await saveState(ctx, {
      mode: 'kind',
      context: 'kind-kind',
      cluster: 'kind',
      namespace: 'ns',
      createdCluster: true,
    });
    expect(statSync(statePath(ctx.home)).mode & 0o777).toBe(0o600);
    expect(await loadState(ctx)).toMatchObject({
      mode: 'kind',
      context: 'kind-kind',
      createdCluster: true,
      updatedAt: '2026-01-01T00:00:00.000Z',
    });
  });

  it('treats a damaged state file as none', async () => {
    const ctx = testContext();
    writeFileSync(statePath(ctx.home), '{ not json');
    expect(await loadState(ctx)).toBeUndefined();
  });

  it('follows the saved state, and lets flags override it', async () => {
    const ctx = testContext();
    await saveState(ctx, {
      mode: 'kind',
      context: 'kind-lesson',
      cluster: 'lesson',
      namespace: 'lesson-ns',
    });
    expect(await resolveTarget({}, ctx)).toEqual({
      mode: 'kind',
      context: 'kind-lesson',
      cluster: 'lesson',
      namespace: 'lesson-ns',
    });
    // Typed on the command line, the lesson's own namespace wins over the saved one.
    expect((await resolveTarget({ namespace: 'multi-replica-web' }, ctx)).namespace).toBe(
      'multi-replica-web',
    );
    // The saved namespace belongs to the saved cluster, not to another one.
    expect((await resolveTarget({ cluster: 'other' }, ctx)).namespace).toBe('multi-replica-web');
    expect((await resolveTarget({ cluster: 'lesson' }, ctx)).namespace).toBe('lesson-ns');
    expect(await resolveTarget({ cluster: 'other', namespace: 'x' }, ctx)).toEqual({
      mode: 'kind',
      context: 'kind-other',
      cluster: 'other',
      namespace: 'x',
    });
  });

  it('picks the only kind cluster, else kind', async () => {
    const ctx = testContext();
    expect(
      (await resolveTarget({}, ctx, { listKindClusters: () => Promise.resolve(['solo']) })).context,
    ).toBe('kind-solo');
    expect(
      (await resolveTarget({}, ctx, { listKindClusters: () => Promise.resolve(['a', 'b']) }))
        .context,
    ).toBe('kind-kind');
  });

  it('refuses a foreign context without --yes, and remembers a confirmed one for later commands', async () => {
    const ctx = testContext();
    await expect(resolveTarget({ context: 'prod' }, ctx)).rejects.toBeInstanceOf(RefusedError);
    expect((await resolveTarget({ context: 'prod', yes: true }, ctx)).mode).toBe('context');
    await saveState(ctx, {
      mode: 'context',
      context: 'prod',
      namespace: 'ns',
      confirmedContext: 'prod',
    });
    expect((await resolveTarget({}, ctx)).context).toBe('prod');
    await expect(resolveTarget({}, ctx, { requireExplicitConsent: true })).rejects.toMatchObject({
      exitCode: ExitCode.Refused,
    });
  });

  it('says to run up --sim when the embedded cluster is not running', async () => {
    const ctx = testContext();
    await expect(resolveTarget({ sim: true }, ctx)).rejects.toMatchObject({
      exitCode: ExitCode.EmbeddedCluster,
      hint: 'Run `replica-demo up --sim` first.',
    });
  });
});
