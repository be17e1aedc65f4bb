import type * as k8s from '@kubernetes/client-node';
import {
  InterruptedError,
  OperationError,
  TimeoutError,
  type ReplicaDemoError,
} from '../errors.js';
import type { KubeApi } from './api.js';
import { waitUntil } from './informer.js';

/**
 * One Job from creation to deletion: create it, follow its pod and its events, wait for it
 * to finish, read the pod's log, then delete it with its pod and wait until the pod is gone,
 * so nothing outlives the command, Ctrl-C included.
 */

export type JobOutcome =
  { state: 'complete' } | { state: 'failed'; reason: string; message: string };

/** How a run ended: the Job's own outcome, or a Ctrl-C that came first (with `logOnAbort`). */
export type RunOutcome = JobOutcome | { state: 'interrupted' };

export function jobOutcome(job: k8s.V1Job): JobOutcome | undefined {
  for (const condition of job.status?.conditions ?? []) {
    if (condition.status !== 'True') continue;
    if (condition.type === 'Complete') return { state: 'complete' };
    if (condition.type === 'Failed') {
      return {
        state: 'failed',
        reason: condition.reason ?? 'Failed',
        message: condition.message ?? '',
      };
    }
  }
  return undefined;
}

export interface JobRunOptions {
  /** The label that picks exactly this Job's pods, `key=value`. */
  podSelector: string;
  /** The container whose log is the result. */
  container: string;
  /** Read the log with each line's time first (`kubectl logs --timestamps`). */
  timestamps?: boolean;
  signal: AbortSignal;
  /** Guards against a Job that never reports; its own activeDeadlineSeconds comes first. */
  timeoutMs: number;
  /** Each change to the Job's pod, for progress. */
  onPod?: (pod: k8s.V1Pod) => void;
  /** A pod state that will not fix itself (an image that cannot be pulled) ends the wait. */
  podProblem?: (pod: k8s.V1Pod) => ReplicaDemoError | undefined;
  /** The Job controller could not create the pod (a FailedCreate event). */
  failedCreate?: (message: string) => ReplicaDemoError;
  /** A line for the user about the clean-up when something went wrong. */
  note: (text: string) => void;
  /** Records what would be left if the run stopped without cleaning up; returns the remover. */
  track?: (what: string) => () => void;
  /**
   * On Ctrl-C, read what the pod logged so far and return it as an `interrupted` run
   * (before the Job is deleted) instead of throwing.
   */
  logOnAbort?: boolean;
}

export interface JobRun {
  outcome: RunOutcome;
  podName: string | undefined;
  /** Pods the Job made (more than one means the Job controller retried). */
  podsCreated: number;
  /** The container's log; empty when there was no pod or the log could not be read. */
  log: string;
  logError: ReplicaDemoError | undefined;
}

export async function runJob(
  api: KubeApi,
  job: k8s.V1Job,
  options: JobRunOptions,
): Promise<JobRun> {
  const name = job.metadata?.name ?? '';
  const pods = api.pods({ labelSelector: options.podSelector });
  const events = api.events();
  const jobs = api.jobs({ fieldSelector: `metadata.name=${name}` });
  const podUids = new Set<string>();
  pods.onChange((change, pod) => {
    if (change === 'delete') return;
    if (pod.metadata?.uid) podUids.add(pod.metadata.uid);
    options.onPod?.(pod);
  });
  let created = false;
  let untrack: (() => void) | undefined;
  try {
    // Pods and events first, so nothing the Job does is missed.
    await Promise.all([pods.start(), events.start()]);
    await api.createJob(job);
    created = true;
    untrack = options.track?.(
      `Job ${name} and its pod (\`kubectl delete job ${name} -n ${api.namespace} --cascade=background\`)`,
    );
    await jobs.start();
    let seen = false;
    const outcome: RunOutcome | undefined = await waitUntil(
      [jobs, pods, events],
      () => {
        for (const pod of pods.list()) {
          const problem = options.podProblem?.(pod);
          if (problem) throw problem;
        }
        const failed = events
          .list()
          .find((e) => e.involvedObject?.name === name && e.reason === 'FailedCreate');
        if (failed && options.failedCreate) throw options.failedCreate(failed.message ?? '');
        const current = jobs.get(name);
        if (current === undefined) {
          if (seen) throw new OperationError(`Job ${name} was deleted before it finished.`);
          return undefined;
        }
        seen = true;
        return jobOutcome(current);
      },
      {
        signal: options.signal,
        timeoutMs: options.timeoutMs,
        onTimeout: () =>
          new TimeoutError(
            `Gave up waiting for Job ${name} to finish after ${Math.round(options.timeoutMs / 1000)} s.`,
            'Raise --timeout to wait longer.',
          ),
      },
    ).catch((error: unknown) => {
      if (options.logOnAbort && error instanceof InterruptedError && options.signal.aborted)
        return { state: 'interrupted' } as const;
      throw error;
    });
    const podName = pods.list()[0]?.metadata?.name;
    let log = '';
    let logError: ReplicaDemoError | undefined;
    if (podName !== undefined) {
      try {
        log = await api.readPodLog(
          podName,
          options.container,
          options.timestamps === true ? { timestamps: true } : {},
        );
      } catch (error) {
        logError = error as ReplicaDemoError;
      }
    }
    return { outcome, podName, podsCreated: podUids.size, log, logError };
  } finally {
    events.stop();
    jobs.stop();
    if (created) await removeJob(api, name, pods, options);
    untrack?.();
    pods.stop();
  }
}

/** Deletes the Job and waits (briefly) until its pods are gone. */
async function removeJob(
  api: KubeApi,
  name: string,
  pods: ReturnType<KubeApi['pods']>,
  options: JobRunOptions,
): Promise<void> {
  const kubectl = `kubectl delete job ${name} -n ${api.namespace} --cascade=background`;
  try {
    await api.deleteJob(name);
  } catch (error) {
    // The message already says what failed; the Job's own TTL removes it in the end.
    options.note(`${(error as Error).message} If the cluster is still there, run \`${kubectl}\`.`);
    return;
  }
  try {
    await waitUntil([pods], () => (pods.list().length === 0 ? true : undefined), {
      // A fresh signal: the user's Ctrl-C must not cut short the clean-up it asked for.
      signal: new AbortController().signal,
      timeoutMs: 20_000,
      onTimeout: () => new Error('its pod is still shutting down after 20 s'),
    });
    if (options.signal.aborted) {
      options.note(`Stopped: deleted Job ${name} and its pod; nothing of it is left.`);
    }
  } catch (error) {
    options.note(
      `Job ${name} is deleted; its pod may still be shutting down (${(error as Error).message}).`,
    );
  }
}
