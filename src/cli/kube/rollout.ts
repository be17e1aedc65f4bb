import { InterruptedError, TimeoutError } from '../errors.js';
import { APP_LABEL, DEPLOYMENT } from '../core/names.js';
import {
  diagnoseRollout,
  rolloutProgress,
  rolloutProgressText,
  summarizeEvent,
  summarizePod,
  type DiagnosisContext,
  type RolloutProgress,
} from '../core/rollout.js';
import type { KubeApi } from './api.js';
import { waitUntil } from './informer.js';

/**
 * The waits of `up` and `down`, by watch: every change arrives as it happens, nothing is
 * polled, and a wait that runs out of time says in plain words what is stuck.
 */

export interface RolloutWaitOptions {
  desired: number;
  timeoutMs: number;
  signal: AbortSignal;
  onProgress: (text: string, progress: RolloutProgress) => void;
  diagnosis: DiagnosisContext;
}

export interface RolloutResult extends RolloutProgress {
  elapsedMs: number;
}

async function startAll(
  informers: readonly { start(): Promise<void>; stop(): void }[],
): Promise<void> {
  try {
    await Promise.all(informers.map((i) => i.start()));
  } catch (error) {
    for (const i of informers) i.stop();
    throw error;
  }
}

/** Watches the Deployment, its pods and the namespace's events until every replica is ready. */
export async function waitForRollout(
  api: KubeApi,
  options: RolloutWaitOptions,
): Promise<RolloutResult> {
  const { desired, signal } = options;
  const namespace = api.namespace;
  const started = Date.now();
  const deployments = api.deployments({ fieldSelector: `metadata.name=${DEPLOYMENT}` });
  const pods = api.pods({ labelSelector: APP_LABEL });
  const events = api.events();
  const informers = [deployments, pods, events];
  const progress = () => rolloutProgress(deployments.get(DEPLOYMENT), desired);
  const eventSummaries = () => events.list().map(summarizeEvent);
  try {
    await startAll(informers);
    return await waitUntil(
      informers,
      () => {
        const now = progress();
        options.onProgress(rolloutProgressText(now, eventSummaries(), started), now);
        return now.done ? { ...now, elapsedMs: Date.now() - started } : undefined;
      },
      {
        signal,
        timeoutMs: options.timeoutMs,
        onAbort: () =>
          new InterruptedError(
            `Interrupted while waiting: the manifests are applied and ${progress().ready}/${desired} replicas were ready.`,
            'Run `replica-demo up` again to keep waiting, or `replica-demo down` to remove it.',
          ),
        onTimeout: () => {
          const reasons = diagnoseRollout(
            pods.list().map(summarizePod),
            eventSummaries(),
            options.diagnosis,
            started,
          );
          const why = reasons.length > 0 ? ` ${reasons.join('; ')}.` : '';
          return new TimeoutError(
            `Deployment ${DEPLOYMENT} in namespace ${namespace} has ${progress().ready}/${desired} replicas ready after ${Math.round(options.timeoutMs / 1000)} s.${why}`,
            `See \`kubectl get pods,events -n ${namespace}\`; raise --timeout if it is only slow.`,
          );
        },
      },
    );
  } finally {
    for (const i of informers) i.stop();
  }
}

export interface NamespaceWaitOptions {
  timeoutMs: number;
  signal: AbortSignal;
  onProgress: (text: string) => void;
}

/** Waits until the namespace is gone; its pods give the progress text. Resolves with the time taken. */
export async function waitForNamespaceGone(
  api: KubeApi,
  options: NamespaceWaitOptions,
): Promise<number> {
  const namespace = api.namespace;
  const started = Date.now();
  const namespaces = api.namespaces({ fieldSelector: `metadata.name=${namespace}` });
  const pods = api.pods();
  const informers = [namespaces, pods];
  const phase = () => namespaces.get(namespace)?.status?.phase ?? 'Terminating';
  try {
    await startAll(informers);
    return await waitUntil(
      informers,
      () => {
        if (namespaces.get(namespace) === undefined) return Date.now() - started;
        options.onProgress(`namespace ${namespace}: ${phase()}, ${pods.list().length} pod(s) left`);
        return undefined;
      },
      {
        signal: options.signal,
        timeoutMs: options.timeoutMs,
        onAbort: () =>
          new InterruptedError(
            `Interrupted: namespace ${namespace} was already being deleted (${pods.list().length} pod(s) left); the cluster finishes that on its own.`,
          ),
        onTimeout: () =>
          new TimeoutError(
            `Namespace ${namespace} is still ${phase()} after ${Math.round(options.timeoutMs / 1000)} s (${pods.list().length} pod(s) left).`,
            `See \`kubectl get namespace ${namespace} -o yaml\` for what holds it (finalizers).`,
          ),
      },
    );
  } finally {
    for (const i of informers) i.stop();
  }
}
