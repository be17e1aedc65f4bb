import { Job } from 'kubernetes-models/batch/v1';
import { describe, expect, it } from 'vitest';
import {
  CURL_WRITE_OUT,
  BLAST_SELECTOR,
  blastJob,
  blastUrl,
  curlArgs,
  newRunId,
} from '../src/cli/core/blast-job.js';
import { CURL_IMAGE, CURL_USER_ID } from '../src/cli/core/names.js';
// The embedded cluster's own admission check: should it move, this file fails to load.
import { restrictedViolations } from '../src/sim/pod-security.js';

const plan = { count: 20, parallel: 1, keepAlive: false, timeoutSeconds: 90 };

describe('blastJob', () => {
  const job = blastJob({ plan, namespace: 'multi-replica-web', runId: 'abc123' });
  const pod = job.spec.template.spec;
  const container = pod.containers[0]!;

  it('is a valid batch/v1 Job by the Kubernetes schema', () => {
    expect(() =>
      new Job(job as unknown as ConstructorParameters<typeof Job>[0]).validate(),
    ).not.toThrow();
  });

  it('fails that schema when a field has the wrong type (the check can fail)', () => {
    const broken = structuredClone(job) as unknown as { spec: { backoffLimit: unknown } };
    broken.spec.backoffLimit = 'zero';
    expect(() =>
      new Job(broken as unknown as ConstructorParameters<typeof Job>[0]).validate(),
    ).toThrow();
  });

  it('runs one pod with the pinned curl image and never retries', () => {
    expect(job.spec.parallelism).toBe(1);
    expect(job.spec.completions).toBe(1);
    expect(job.spec.backoffLimit).toBe(0);
    expect(job.spec.activeDeadlineSeconds).toBe(90);
    expect(job.spec.ttlSecondsAfterFinished).toBeGreaterThan(0);
    expect(pod.restartPolicy).toBe('Never');
    expect(container.image).toBe(CURL_IMAGE);
    expect(container.image).not.toMatch(/:latest$/);
    expect(container.imagePullPolicy).toBe('IfNotPresent');
  });

  it('carries our labels and the run id on the Job and its pod', () => {
    const labels = {
      'app.kubernetes.io/managed-by': 'replica-demo',
      'app.kubernetes.io/component': 'blast',
      'replica-demo/run-id': 'abc123',
    };
    expect(job.metadata.labels).toEqual(labels);
    expect(job.spec.template.metadata.labels).toEqual(labels);
    expect(job.metadata.name).toBe('replica-demo-blast-abc123');
    expect(BLAST_SELECTOR).toBe('app.kubernetes.io/component=blast');
  });

  it('lets its pod go within seconds when a blast is stopped', () => {
    expect(pod.terminationGracePeriodSeconds).toBeLessThanOrEqual(2);
  });

  it('runs as the numeric curl user with nothing extra', () => {
    expect(pod.securityContext.runAsUser).toBe(CURL_USER_ID);
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(container.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
  });

  it('passes Pod Security "restricted"', () => {
    expect(restrictedViolations(pod, job.spec.template.metadata)).toEqual([]);
    // The same checker must object when the numeric user is missing, or the test proves nothing.
    const noUser = structuredClone(pod) as {
      securityContext: Record<string, unknown>;
      containers: Array<{ securityContext: Record<string, unknown> }>;
    };
    noUser.securityContext.runAsNonRoot = undefined;
    noUser.containers[0]!.securityContext.runAsNonRoot = undefined;
    noUser.containers[0]!.securityContext.allowPrivilegeEscalation = true;
    expect(restrictedViolations(noUser).length).toBeGreaterThan(0);
  });
});

describe('curlArgs', () => {
  it('makes every request a new connection and writes one line per request', () => {
    const args = curlArgs(plan);
    expect(args).toContain('-sS');
    expect(args.join(' ')).toContain('-H Connection: close');
    expect(args).toContain('%{http_code} %{time_total} %header{x-pod-name}\\n');
    expect(args.at(-1)).toBe('http://web-server-service/?n=[1-20]');
    expect(args).not.toContain('--parallel');
    expect(args.slice(args.indexOf('-o'), args.indexOf('-o') + 2)).toEqual(['-o', '/dev/null']);
  });

  it('drops Connection: close for --keep-alive', () => {
    expect(curlArgs({ ...plan, keepAlive: true }).join(' ')).not.toContain('Connection: close');
  });

  it('runs P transfers at once inside the one curl for --parallel', () => {
    const args = curlArgs({ ...plan, count: 2000, parallel: 8 });
    expect(args.slice(args.indexOf('--parallel'), args.indexOf('--parallel') + 3)).toEqual([
      '--parallel',
      '--parallel-max',
      '8',
    ]);
    expect(args.at(-1)).toBe('http://web-server-service/?n=[1-2000]');
  });

  it('limits the rate and writes each line as its request ends for a timed load', () => {
    const args = curlArgs({ ...plan, count: 1250, ratePerSecond: 50, timed: true });
    expect(args.slice(args.indexOf('--rate'), args.indexOf('--rate') + 2)).toEqual([
      '--rate',
      '50/s',
    ]);
    const writeOut = args[args.indexOf('-w') + 1];
    // The same line as a blast's, on stderr, which curl does not buffer.
    expect(writeOut).toBe(`%{stderr}${CURL_WRITE_OUT}`);
    // Only what curl 7.88 knows: no %time{} (8.6), no %{time_posttransfer} (8.10).
    expect(writeOut?.match(/%\{?\w+/g)).toEqual([
      '%{stderr',
      '%{http_code',
      '%{time_total',
      '%header',
    ]);
    expect(curlArgs(plan)).not.toContain('--rate');
  });

  it('names a non-default port in the URL', () => {
    expect(blastUrl(3, 'svc', 8080)).toBe('http://svc:8080/?n=[1-3]');
  });
});

describe('newRunId', () => {
  it('is label-safe and follows the random source', () => {
    let i = 0;
    const values = [0, 0.5, 0.99, 0.1, 0.2, 0.3];
    const id = newRunId(() => values[i++ % values.length]!);
    expect(id).toMatch(/^[a-z0-9]{6}$/);
    i = 0;
    expect(newRunId(() => values[i++ % values.length]!)).toBe(id);
    expect(newRunId(() => 0.42)).not.toBe(id);
  });
});

describe('blast failures in plain words', () => {
  it('explains an image that cannot be pulled, with the kind load command on kind', async () => {
    const { imagePullProblem } = await import('../src/cli/core/blast-job.js');
    const kind = imagePullProblem(
      { reason: 'ImagePullBackOff', message: 'Back-off pulling image' },
      { mode: 'kind', name: 'lesson' },
    );
    expect(kind?.message).toContain(`image ${CURL_IMAGE} cannot be pulled (ImagePullBackOff`);
    expect(kind?.hint).toContain(`kind load docker-image ${CURL_IMAGE} --name lesson`);
    const other = imagePullProblem({ reason: 'ErrImagePull', message: '' }, { mode: 'context' });
    expect(other?.hint).not.toContain('kind load');
    for (const reason of ['ErrImageNeverPull', 'InvalidImageName']) {
      expect(imagePullProblem({ reason, message: '' }, { mode: 'kind' })?.message).toContain(
        `(${reason})`,
      );
    }
    expect(
      imagePullProblem({ reason: 'CrashLoopBackOff', message: '' }, { mode: 'kind' }),
    ).toBeUndefined();
  });

  it('names the registry image, and up --registry as the fix, when the curl image came from a registry', async () => {
    const { blastJob, imagePullProblem } = await import('../src/cli/core/blast-job.js');
    const image = 'localhost:5001/lesson/curl:8.11.1';
    const job = blastJob({ plan, namespace: 'multi-replica-web', runId: 'abc123', image });
    expect(job.spec.template.spec.containers[0]?.image).toBe(image);
    const problem = imagePullProblem(
      { reason: 'ErrImagePull', message: 'not found' },
      { mode: 'kind', name: 'kind' },
      image,
    );
    expect(problem?.message).toContain(`image ${image} cannot be pulled`);
    expect(problem?.hint).toContain('--registry');
    expect(problem?.hint).not.toContain('kind load');
  });

  it('tells a Pod Security rejection from other FailedCreate reasons', async () => {
    const { failedCreateProblem } = await import('../src/cli/core/blast-job.js');
    const ps = failedCreateProblem(
      'pods "x" is forbidden: violates PodSecurity "restricted:latest": runAsNonRoot != true',
      'multi-replica-web',
    );
    expect(ps.message).toMatch(/^Pod Security rejected the blast Job's pod: .*runAsNonRoot/);
    expect(ps.hint).toContain('kubectl get ns multi-replica-web --show-labels');
    const quota = failedCreateProblem('exceeded quota: pods', 'ns');
    expect(quota.message).toBe('The blast Job could not create its pod: exceeded quota: pods');
    expect(quota.hint).toBeUndefined();
  });

  it('says how far a blast got before its deadline', async () => {
    const { deadlineProblem } = await import('../src/cli/core/blast-job.js');
    const problem = deadlineProblem(5, 1234, 100000);
    expect(problem.message).toBe(
      'The blast Job ran past its deadline of 5 s (--timeout): 1234 of 100000 requests finished.',
    );
    expect(problem.hint).toMatch(/--timeout/);
  });
});
