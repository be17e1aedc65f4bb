import { randomSuffix } from '../../common/names.js';
import type { V1Job } from '@kubernetes/client-node';
import {
  CURL_IMAGE,
  CURL_USER_ID,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  SERVICE,
  SERVICE_PORT,
} from './names.js';
import type { BlastPlan } from './blast-plan.js';

/**
 * The blast Job: one pod, one curl process, all N requests.
 *
 * Why one pod even with --parallel: curl's own `--parallel --parallel-max P` runs P
 * transfers at once inside the one process, so concurrency costs nothing extra, there is one
 * log to read, and the promise "one Job and at most P pods" holds trivially. Splitting N
 * over P pods (Job parallelism/completions) would pay P pod start-ups, P image pulls on a
 * cold node and P logs to merge, for concurrency curl already has.
 */

export const COMPONENT_LABEL = 'app.kubernetes.io/component';
export const COMPONENT_BLAST = 'blast';
export const RUN_ID_LABEL = 'replica-demo/run-id';
export const BLAST_CONTAINER = 'curl';
/** A safety net: the tool deletes the Job itself, but a killed CLI cannot. */
export const BLAST_TTL_SECONDS = 600;

/**
 * `%header{}` needs curl 7.84+; the pinned image has it. One line per request: the `\n` is
 * two characters here, which curl's `-w` turns into a newline (no shell is involved).
 */
export const CURL_WRITE_OUT = '%{http_code} %{time_total} %header{x-pod-name}\\n';

/**
 * The same line, written as each request ends, so the log's own timestamps (the container
 * runtime stamps every line as it arrives, `kubectl logs --timestamps`) say when. curl 7.88,
 * the oldest curl the lesson meets, has no write-out variable for a transfer's start (`%time{}`
 * came in 8.6): the start is that timestamp minus `time_total`. curl buffers stdout when it
 * is a pipe, and flushes it only when the buffer is full; `%{stderr}` (7.63+) sends the line
 * to stderr, which it does not buffer.
 */
export const TIMED_WRITE_OUT = `%{stderr}${CURL_WRITE_OUT}`;

/** Seconds curl waits for one connection or one request before counting it as failed. */
export const CURL_CONNECT_TIMEOUT = 5;
export const CURL_REQUEST_TIMEOUT = 10;

export const BLAST_SELECTOR = `${COMPONENT_LABEL}=${COMPONENT_BLAST}`;

export function blastJobName(runId: string): string {
  return `replica-demo-blast-${runId}`;
}

/** A short lower-case id, valid in a label value and a Job name. */
export function newRunId(random: () => number, length = 6): string {
  return randomSuffix(random, length);
}

export function blastUrl(count: number, service = SERVICE, port = SERVICE_PORT): string {
  const host = port === 80 ? service : `${service}:${port}`;
  // curl's URL globbing expands `[1-N]` itself; the query only makes each URL distinct.
  return `http://${host}/?n=[1-${count}]`;
}

/** What the curl process is asked to do. */
export interface CurlPlan extends Pick<BlastPlan, 'count' | 'parallel' | 'keepAlive'> {
  /** At most this many requests started per second (curl's --rate, 7.84+); none: no limit. */
  ratePerSecond?: number;
  /** Each line written as its request ends, to be read with the log's timestamps. */
  timed?: boolean;
}

export function curlArgs(plan: CurlPlan): string[] {
  return [
    '-sS',
    // With --parallel, curl 7.x/8.x still draws its progress meter unless told not to.
    '--no-progress-meter',
    '-o',
    '/dev/null',
    // A new TCP connection per request is what kube-proxy balances; keep-alive shows the opposite.
    ...(plan.keepAlive ? [] : ['-H', 'Connection: close']),
    '--connect-timeout',
    String(CURL_CONNECT_TIMEOUT),
    '--max-time',
    String(CURL_REQUEST_TIMEOUT),
    '-w',
    plan.timed === true ? TIMED_WRITE_OUT : CURL_WRITE_OUT,
    ...(plan.parallel > 1 ? ['--parallel', '--parallel-max', String(plan.parallel)] : []),
    ...(plan.ratePerSecond !== undefined ? ['--rate', `${plan.ratePerSecond}/s`] : []),
    blastUrl(plan.count),
  ];
}

export interface BlastJobInput {
  plan: CurlPlan & Pick<BlastPlan, 'timeoutSeconds'>;
  namespace: string;
  runId: string;
  /** The curl image; the published one unless `up --registry` put it beside the server's. */
  image?: string;
}

/** The labels on the Job and its pod; the pod ones let a watch count exactly this blast's pods. */
export function blastLabels(runId: string): Record<string, string> {
  return {
    [MANAGED_BY_LABEL]: MANAGED_BY_VALUE,
    [COMPONENT_LABEL]: COMPONENT_BLAST,
    [RUN_ID_LABEL]: runId,
  };
}

/**
 * The Job object, checked against client-node's V1Job as it is written (`satisfies`), and
 * typed as written, so tests read its fields without optional chains.
 */
export function blastJob(input: BlastJobInput) {
  const labels = blastLabels(input.runId);
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: blastJobName(input.runId), namespace: input.namespace, labels },
    spec: {
      // One pod: curl does the concurrency (see the note at the top).
      parallelism: 1,
      completions: 1,
      // A retry would send the requests twice and mix two runs into one histogram.
      backoffLimit: 0,
      activeDeadlineSeconds: input.plan.timeoutSeconds,
      ttlSecondsAfterFinished: BLAST_TTL_SECONDS,
      template: {
        metadata: { labels: { ...labels } },
        spec: {
          restartPolicy: 'Never',
          // curl has nothing to clean up; a Ctrl-C should not leave its pod around for 30 s.
          terminationGracePeriodSeconds: 2,
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: {
            runAsNonRoot: true,
            // The image's user is named; runAsNonRoot can only check a number.
            runAsUser: CURL_USER_ID,
            runAsGroup: CURL_USER_ID,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          containers: [
            {
              name: BLAST_CONTAINER,
              image: input.image ?? CURL_IMAGE,
              imagePullPolicy: 'IfNotPresent',
              command: ['curl'],
              args: curlArgs(input.plan),
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                runAsNonRoot: true,
                runAsUser: CURL_USER_ID,
                capabilities: { drop: ['ALL'] },
                seccompProfile: { type: 'RuntimeDefault' },
              },
              resources: {
                requests: { cpu: '50m', memory: '16Mi' },
                limits: { memory: '128Mi' },
              },
            },
          ],
        },
      },
    },
  } satisfies V1Job;
}

/** A failure of the blast in plain words: what happened, and what to do. */
export interface Problem {
  message: string;
  hint?: string;
}

const PULL_REASONS = /ImagePull|ErrImage|InvalidImageName/;

/**
 * The blast pod's container is waiting for a reason that will not fix itself: its image
 * cannot be pulled. kind nodes pull from the internet unless the image was loaded.
 */
export function imagePullProblem(
  waiting: { reason: string; message: string },
  cluster: { mode: string; name?: string },
  image: string = CURL_IMAGE,
): Problem | undefined {
  if (!PULL_REASONS.test(waiting.reason)) return undefined;
  const detail = waiting.message ? `: ${waiting.message}` : '';
  const message = `The blast pod cannot start: image ${image} cannot be pulled (${waiting.reason}${detail}).`;
  if (image !== CURL_IMAGE) {
    return {
      message,
      hint: `\`replica-demo up --registry\` put the server image in that registry; run it again with the same --registry to push the curl image there too.`,
    };
  }
  return {
    message,
    hint:
      cluster.mode === 'kind'
        ? `Load it into kind: \`docker pull ${CURL_IMAGE} && kind load docker-image ${CURL_IMAGE} --name ${cluster.name ?? 'kind'}\`, then run the blast again.`
        : `Make sure the cluster's nodes can pull ${CURL_IMAGE} (or load it onto them, or use \`up --registry\`), then run the blast again.`,
  };
}

/** A `FailedCreate` event on the Job: the Job controller could not create the pod. */
export function failedCreateProblem(eventMessage: string, namespace: string): Problem {
  if (/PodSecurity/i.test(eventMessage)) {
    return {
      message: `Pod Security rejected the blast Job's pod: ${eventMessage}`,
      hint: `Check the namespace's labels (\`kubectl get ns ${namespace} --show-labels\`); the Job is built to pass "restricted".`,
    };
  }
  return { message: `The blast Job could not create its pod: ${eventMessage}` };
}

export function deadlineProblem(timeoutSeconds: number, finished: number, count: number): Problem {
  return {
    message: `The blast Job ran past its deadline of ${timeoutSeconds} s (--timeout): ${finished} of ${count} requests finished.`,
    hint: 'Raise --timeout, lower --count, or add --parallel.',
  };
}
