import * as k8s from '@kubernetes/client-node';
import { InterruptedError, TimeoutError } from '../errors.js';
import { APP_LABEL, DEPLOYMENT } from '../core/names.js';
import {
  diagnoseRollout,
  rolloutProgress,
  rolloutProgressText,
  summarizeEvent,
  summarizePod,
  type DeploymentLike,
  type DiagnosisContext,
  type EventSummary,
  type RolloutProgress,
} from '../core/plan-up.js';
import { apiErrorMessage, type KubeClients } from './client.js';

/**
 * Waiting through the API: list once, then watch from that resourceVersion, so every change
 * arrives as it happens and nothing is polled. A watch the server closes (they time out) is
 * resumed from the last version seen; a 410 Gone starts over with a fresh list.
 */

type Obj = { metadata?: { name?: string; resourceVersion?: string; uid?: string } } & Record<
  string,
  unknown
>;

interface ListResult {
  items: Obj[];
  resourceVersion: string;
}

interface WatchSpec {
  path: string;
  query: Record<string, string>;
  list: () => Promise<ListResult>;
  onReset: (items: Obj[]) => void;
  onEvent: (type: string, object: Obj) => void;
}

/** At most this many resumptions per watch in one wait; a server closing every few ms is broken. */
const MAX_RESTARTS = 200;

class ResumingWatch {
  private controller: AbortController | undefined;
  private stopped = false;
  private restarts = 0;
  private resourceVersion = '';

  constructor(
    private readonly kc: k8s.KubeConfig,
    private readonly spec: WatchSpec,
    private readonly onFatal: (error: unknown) => void,
  ) {}

  async start(): Promise<void> {
    await this.relist();
    await this.open();
  }

  stop(): void {
    this.stopped = true;
    this.controller?.abort();
  }

  private async relist(): Promise<void> {
    const { items, resourceVersion } = await this.spec.list();
    this.resourceVersion = resourceVersion;
    this.spec.onReset(items);
  }

  private async open(): Promise<void> {
    if (this.stopped) return;
    const watch = new k8s.Watch(this.kc);
    let gone = false;
    const controller = await watch.watch(
      this.spec.path,
      { ...this.spec.query, resourceVersion: this.resourceVersion, allowWatchBookmarks: 'true' },
      (type: string, object: Obj) => {
        if (type === 'ERROR') {
          if ((object as { code?: number }).code === 410) gone = true;
          return;
        }
        const rv = object.metadata?.resourceVersion;
        if (rv) this.resourceVersion = rv;
        if (type !== 'BOOKMARK') this.spec.onEvent(type, object);
      },
      (error: unknown) => {
        if (this.stopped) return;
        this.restarts += 1;
        if (this.restarts > MAX_RESTARTS) {
          this.onFatal(error ?? new Error(`the watch on ${this.spec.path} kept closing`));
          return;
        }
        const statusCode = (error as { statusCode?: number } | null)?.statusCode;
        const resume = async () => {
          if (gone || statusCode === 410) await this.relist();
          await this.open();
        };
        // A short pause so a server that refuses at once is not hammered.
        setTimeout(() => resume().catch(this.onFatal), error ? 200 : 0).unref();
      },
    );
    this.controller = controller;
    // stop() may have come while the request was being made: close what it opened.
    if (this.stopped) controller.abort();
  }
}

function rvOf(list: { metadata?: { resourceVersion?: string } }): string {
  return list.metadata?.resourceVersion ?? '';
}

function asObj(value: unknown): Obj {
  return value as Obj;
}

export interface WaitOptions {
  namespace: string;
  desired: number;
  timeoutMs: number;
  signal: AbortSignal;
  onProgress: (text: string, progress: RolloutProgress) => void;
  diagnosis: DiagnosisContext;
}

export interface RolloutResult extends RolloutProgress {
  elapsedMs: number;
}

/**
 * Watches the Deployment, its pods and the namespace's events until every replica is
 * ready; on timeout the error says in plain words what is stuck.
 */
export async function waitForRollout(
  clients: KubeClients,
  options: WaitOptions,
): Promise<RolloutResult> {
  const { namespace, desired } = options;
  const started = Date.now();
  let deployment: DeploymentLike | undefined;
  const pods = new Map<string, Obj>();
  const events = new Map<string, EventSummary>();

  return new Promise<RolloutResult>((resolve, reject) => {
    let settled = false;
    const watches: ResumingWatch[] = [];
    const finish = (error: unknown, result?: RolloutResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal.removeEventListener('abort', onAbort);
      for (const w of watches) w.stop();
      if (error) reject(error instanceof Error ? error : new Error(apiErrorMessage(error)));
      else if (result) resolve(result);
    };
    const check = () => {
      const progress = rolloutProgress(deployment, desired);
      options.onProgress(rolloutProgressText(progress, [...events.values()], started), progress);
      if (progress.done) finish(undefined, { ...progress, elapsedMs: Date.now() - started });
    };
    const onAbort = () => {
      const progress = rolloutProgress(deployment, desired);
      finish(
        new InterruptedError(
          `Interrupted while waiting: the manifests are applied and ${progress.ready}/${desired} replicas were ready.`,
          'Run `replica-demo up` again to keep waiting, or `replica-demo down` to remove it.',
        ),
      );
    };
    const onTimeout = () => {
      const progress = rolloutProgress(deployment, desired);
      const reasons = diagnoseRollout(
        [...pods.values()].map(summarizePod),
        [...events.values()],
        options.diagnosis,
        started,
      );
      const why = reasons.length > 0 ? ` ${reasons.join('; ')}.` : '';
      finish(
        new TimeoutError(
          `Deployment ${DEPLOYMENT} in namespace ${namespace} has ${progress.ready}/${desired} replicas ready after ${Math.round(options.timeoutMs / 1000)} s.${why}`,
          `See \`kubectl get pods,events -n ${namespace}\`; raise --timeout if it is only slow.`,
        ),
      );
    };
    const timer = setTimeout(onTimeout, options.timeoutMs);
    if (options.signal.aborted) return onAbort();
    options.signal.addEventListener('abort', onAbort, { once: true });

    const fatal = (error: unknown) => finish(error);
    watches.push(
      new ResumingWatch(
        clients.kc,
        {
          path: `/apis/apps/v1/namespaces/${namespace}/deployments`,
          query: { fieldSelector: `metadata.name=${DEPLOYMENT}` },
          list: async () => {
            const list = await clients.apps.listNamespacedDeployment({
              namespace,
              fieldSelector: `metadata.name=${DEPLOYMENT}`,
            });
            return { items: list.items.map(asObj), resourceVersion: rvOf(list) };
          },
          onReset: (items) => {
            deployment = items[0];
            check();
          },
          onEvent: (type, object) => {
            deployment = type === 'DELETED' ? undefined : object;
            check();
          },
        },
        fatal,
      ),
      new ResumingWatch(
        clients.kc,
        {
          path: `/api/v1/namespaces/${namespace}/pods`,
          query: { labelSelector: APP_LABEL },
          list: async () => {
            const list = await clients.core.listNamespacedPod({
              namespace,
              labelSelector: APP_LABEL,
            });
            return { items: list.items.map(asObj), resourceVersion: rvOf(list) };
          },
          onReset: (items) => {
            pods.clear();
            for (const p of items) pods.set(p.metadata?.name ?? '', p);
          },
          onEvent: (type, object) => {
            const name = object.metadata?.name ?? '';
            if (type === 'DELETED') pods.delete(name);
            else pods.set(name, object);
          },
        },
        fatal,
      ),
      new ResumingWatch(
        clients.kc,
        {
          path: `/api/v1/namespaces/${namespace}/events`,
          query: {},
          list: async () => {
            const list = await clients.core.listNamespacedEvent({ namespace });
            return { items: list.items.map(asObj), resourceVersion: rvOf(list) };
          },
          onReset: (items) => {
            events.clear();
            for (const e of items)
              events.set(e.metadata?.uid ?? e.metadata?.name ?? '', summarizeEvent(e));
            check();
          },
          onEvent: (type, object) => {
            const key = object.metadata?.uid ?? object.metadata?.name ?? '';
            if (type === 'DELETED') events.delete(key);
            else events.set(key, summarizeEvent(object));
            check();
          },
        },
        fatal,
      ),
    );
    // The deployment watch decides "done"; start it first, the others only add detail.
    for (const w of watches) w.start().catch(fatal);
  });
}

/** The lesson's pods as the API returns them now (for the report table). */
export async function listAppPods(clients: KubeClients, namespace: string): Promise<k8s.V1Pod[]> {
  const list = await clients.core.listNamespacedPod({ namespace, labelSelector: APP_LABEL });
  return list.items;
}

export interface NamespaceWaitOptions {
  namespace: string;
  timeoutMs: number;
  signal: AbortSignal;
  onProgress: (text: string) => void;
}

/** Waits until the namespace is gone: a watch on it, plus its pods for the progress text. */
export async function waitForNamespaceGone(
  clients: KubeClients,
  options: NamespaceWaitOptions,
): Promise<number> {
  const { namespace } = options;
  const started = Date.now();
  let phase = 'Terminating';
  let exists = true;
  const pods = new Set<string>();
  return new Promise<number>((resolve, reject) => {
    let settled = false;
    const watches: ResumingWatch[] = [];
    const finish = (error: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal.removeEventListener('abort', onAbort);
      for (const w of watches) w.stop();
      if (error) reject(error instanceof Error ? error : new Error(apiErrorMessage(error)));
      else resolve(Date.now() - started);
    };
    let podsListed = false;
    const check = () => {
      if (!exists) return finish(undefined);
      // Until the pod list is in, "0 pods left" would be a guess.
      if (podsListed)
        options.onProgress(`namespace ${namespace}: ${phase}, ${pods.size} pod(s) left`);
    };
    const onAbort = () =>
      finish(
        new InterruptedError(
          `Interrupted: namespace ${namespace} was already being deleted (${pods.size} pod(s) left); the cluster finishes that on its own.`,
        ),
      );
    const timer = setTimeout(
      () =>
        finish(
          new TimeoutError(
            `Namespace ${namespace} is still ${phase} after ${Math.round(options.timeoutMs / 1000)} s (${pods.size} pod(s) left).`,
            `See \`kubectl get namespace ${namespace} -o yaml\` for what holds it (finalizers).`,
          ),
        ),
      options.timeoutMs,
    );
    if (options.signal.aborted) return onAbort();
    options.signal.addEventListener('abort', onAbort, { once: true });
    const fatal = (error: unknown) => finish(error);
    watches.push(
      new ResumingWatch(
        clients.kc,
        {
          path: '/api/v1/namespaces',
          query: { fieldSelector: `metadata.name=${namespace}` },
          list: async () => {
            const list = await clients.core.listNamespace({
              fieldSelector: `metadata.name=${namespace}`,
            });
            return { items: list.items.map(asObj), resourceVersion: rvOf(list) };
          },
          onReset: (items) => {
            exists = items.length > 0;
            phase =
              (items[0] as { status?: { phase?: string } } | undefined)?.status?.phase ?? phase;
            check();
          },
          onEvent: (type, object) => {
            exists = type !== 'DELETED';
            phase = (object as { status?: { phase?: string } }).status?.phase ?? phase;
            check();
          },
        },
        fatal,
      ),
      new ResumingWatch(
        clients.kc,
        {
          path: `/api/v1/namespaces/${namespace}/pods`,
          query: {},
          list: async () => {
            const list = await clients.core.listNamespacedPod({ namespace });
            return { items: list.items.map(asObj), resourceVersion: rvOf(list) };
          },
          onReset: (items) => {
            pods.clear();
            for (const p of items) pods.add(p.metadata?.name ?? '');
            podsListed = true;
            check();
          },
          onEvent: (type, object) => {
            if (type === 'DELETED') pods.delete(object.metadata?.name ?? '');
            else pods.add(object.metadata?.name ?? '');
            check();
          },
        },
        fatal,
      ),
    );
    for (const w of watches) w.start().catch(fatal);
  });
}
