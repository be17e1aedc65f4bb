import * as k8s from '@kubernetes/client-node';
import { InterruptedError, TimeoutError } from '../errors.js';

/**
 * Following objects through the watch API. A server may end a watch at any time (its own
 * timeout); `follow` starts it again from the last resourceVersion it saw, so no change is
 * missed and nothing is polled.
 */

export type WatchType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

interface Meta {
  metadata?: { resourceVersion?: string };
}

export interface WatchHandle {
  stop(): void;
  /** Resolves when stopped; rejects when the watch cannot be (re)started. */
  done: Promise<void>;
}

export interface FollowOptions {
  /** Start after this list's resourceVersion; without it the server first replays what exists as ADDED. */
  resourceVersion?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export function follow<T extends Meta>(
  kc: k8s.KubeConfig,
  path: string,
  options: FollowOptions,
  onEvent: (type: WatchType, object: T) => void,
): WatchHandle {
  const watch = new k8s.Watch(kc);
  let stopped = false;
  let current: AbortController | undefined;
  let resourceVersion = options.resourceVersion;
  let restarts = 0;
  let resolveDone: () => void = () => undefined;
  let rejectDone: (error: unknown) => void = () => undefined;
  const done = new Promise<void>((resolve, reject) => {
    resolveDone = resolve;
    rejectDone = reject;
  });

  const start = async (): Promise<void> => {
    if (stopped) return;
    const query: Record<string, string | boolean> = { allowWatchBookmarks: true };
    if (options.labelSelector) query.labelSelector = options.labelSelector;
    if (options.fieldSelector) query.fieldSelector = options.fieldSelector;
    if (resourceVersion) query.resourceVersion = resourceVersion;
    try {
      current = await watch.watch(
        path,
        query,
        (type: string, object: T) => {
          if (stopped) return;
          if (type === 'ERROR') {
            // 410 Gone: the version is too old to resume from; start over with a fresh replay.
            if ((object as { code?: number } | undefined)?.code === 410)
              resourceVersion = undefined;
            return;
          }
          const rv = object?.metadata?.resourceVersion;
          if (rv) resourceVersion = rv;
          if (type === 'BOOKMARK') return;
          onEvent(type as WatchType, object);
        },
        (error: unknown) => {
          if (stopped) return;
          restarts += 1;
          // Bounded: a server that keeps closing at once is broken, not busy.
          if (restarts > 50) {
            rejectDone(error ?? new Error(`the watch on ${path} kept ending`));
            return;
          }
          void start();
        },
      );
      if (stopped) current.abort();
    } catch (error) {
      if (!stopped) rejectDone(error);
    }
  };
  // Background watches are best-effort: one that fails must not end the process unheard.
  done.catch(() => undefined);
  void start();

  return {
    stop: () => {
      if (stopped) return;
      stopped = true;
      current?.abort();
      resolveDone();
    },
    done,
  };
}

export interface WaitOptions {
  signal: AbortSignal;
  timeoutMs: number;
  /** For the timeout message: "the Job to finish". */
  what: string;
  /** Flag that sets the time, for the hint. */
  timeoutFlag?: string;
}

/**
 * Resolves with the first non-undefined value `check` returns for a watch event; rejects on
 * timeout, on Ctrl-C, or when `check` throws.
 */
export function waitFor<T extends Meta, R>(
  kc: k8s.KubeConfig,
  path: string,
  followOptions: FollowOptions,
  check: (type: WatchType, object: T) => R | undefined,
  options: WaitOptions,
): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal.removeEventListener('abort', onAbort);
      handle.stop();
      fn();
    };
    const onAbort = () => finish(() => reject(new InterruptedError()));
    const timer = setTimeout(
      () =>
        finish(() =>
          reject(
            new TimeoutError(
              `Gave up waiting for ${options.what} after ${Math.round(options.timeoutMs / 1000)} s.`,
              options.timeoutFlag ? `Raise ${options.timeoutFlag} to wait longer.` : undefined,
            ),
          ),
        ),
      options.timeoutMs,
    );
    const handle = follow<T>(kc, path, followOptions, (type, object) => {
      if (settled) return;
      try {
        const value = check(type, object);
        if (value !== undefined) finish(() => resolve(value));
      } catch (error) {
        finish(() => reject(error instanceof Error ? error : new Error(String(error))));
      }
    });
    handle.done.catch((error: unknown) =>
      finish(() => reject(error instanceof Error ? error : new Error(String(error)))),
    );
    if (options.signal.aborted) onAbort();
    else options.signal.addEventListener('abort', onAbort, { once: true });
  });
}

export function podsPath(namespace: string): string {
  return `/api/v1/namespaces/${namespace}/pods`;
}
export function jobsPath(namespace: string): string {
  return `/apis/batch/v1/namespaces/${namespace}/jobs`;
}
export function eventsPath(namespace: string): string {
  return `/api/v1/namespaces/${namespace}/events`;
}
export function endpointsPath(namespace: string): string {
  return `/api/v1/namespaces/${namespace}/endpoints`;
}
