import * as k8s from '@kubernetes/client-node';
import { InterruptedError, type ReplicaDemoError } from '../errors.js';
import { isTransient } from './errors.js';

/**
 * The one way this tool follows objects: client-node's ListWatch (list, then watch from the
 * list's resourceVersion; a watch the server ends is resumed from the last version seen, a
 * 410 Gone relists), plus what a command needs on top of it: a bounded retry when the API
 * server blips, failures translated once, and `waitUntil` over one or more caches.
 */

export type Change = 'add' | 'update' | 'delete';

export interface InformerSpec<T extends k8s.KubernetesObject> {
  /** The collection's URL path, e.g. /api/v1/namespaces/x/pods. */
  path: string;
  /** The same list as `path` with the same selectors, through the typed client. */
  list: () => Promise<k8s.KubernetesListObject<T>>;
  labelSelector?: string;
  fieldSelector?: string;
  /** Namespace of the objects, for lookups by name; omit for cluster-scoped kinds. */
  namespace?: string;
  /** Turns a failure that will not go away into the error the user reads. */
  translate: (error: unknown) => ReplicaDemoError;
}

/** Failures in a row before giving up; a server refusing this often is down, not busy. */
const MAX_FAILURES = 5;
const RETRY_STEP_MS = 250;

export class Informer<T extends k8s.KubernetesObject> {
  private readonly listWatch: k8s.ListWatch<T>;
  private readonly changeListeners = new Set<(change: Change, object: T) => void>();
  private readonly failureListeners = new Set<(error: ReplicaDemoError) => void>();
  private failure: ReplicaDemoError | undefined;
  private failuresInRow = 0;
  private listed = false;
  private stopped = false;
  private started = false;
  private retry: NodeJS.Timeout | undefined;
  private readonly synced: Promise<void>;
  private markSynced: () => void = () => undefined;

  constructor(
    kc: k8s.KubeConfig,
    private readonly spec: InformerSpec<T>,
  ) {
    this.synced = new Promise<void>((resolve, reject) => {
      this.markSynced = resolve;
      this.failureListeners.add(reject);
    });
    this.synced.catch(() => undefined);
    const list = async () => {
      const result = await spec.list();
      this.failuresInRow = 0;
      this.listed = true;
      return result;
    };
    this.listWatch = new k8s.ListWatch<T>(
      spec.path,
      new k8s.Watch(kc),
      list,
      false,
      spec.labelSelector,
      spec.fieldSelector,
    );
    this.listWatch.on(k8s.ADD, (o: T) => this.emit('add', o));
    this.listWatch.on(k8s.UPDATE, (o: T) => this.emit('update', o));
    this.listWatch.on(k8s.DELETE, (o: T) => this.emit('delete', o));
    this.listWatch.on(k8s.ERROR, (error: unknown) => this.onError(error));
  }

  /** Lists and starts watching; resolves once the cache holds the whole list. */
  start(): Promise<void> {
    if (!this.started) {
      this.started = true;
      this.connect();
    }
    return this.synced;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retry);
    void this.listWatch.stop();
  }

  list(): T[] {
    return [...this.listWatch.list(this.spec.namespace)];
  }

  get(name: string): T | undefined {
    return this.listWatch.get(name, this.spec.namespace);
  }

  /** Called after each change to the cache; returns the function that stops it. */
  onChange(listener: (change: Change, object: T) => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  /** Called once if the watch cannot go on; at once if it already could not. */
  onFailure(listener: (error: ReplicaDemoError) => void): () => void {
    if (this.failure) {
      listener(this.failure);
      return () => undefined;
    }
    this.failureListeners.add(listener);
    return () => this.failureListeners.delete(listener);
  }

  private connect(): void {
    // start() settles once the list is in the cache and the watch is open (or failed).
    this.listWatch.start().then(
      () => {
        if (this.listed) this.markSynced();
      },
      (error: unknown) => this.onError(error),
    );
  }

  private emit(change: Change, object: T): void {
    if (this.stopped) return;
    this.failuresInRow = 0;
    for (const listener of [...this.changeListeners]) listener(change, object);
  }

  private onError(error: unknown): void {
    // stop() aborts the request, which reports itself as an error: not one to act on.
    if (this.stopped || this.failure) return;
    this.failuresInRow += 1;
    if (isTransient(error) && this.failuresInRow <= MAX_FAILURES) {
      // Not unref'd: while a retry is pending it is the only thing keeping the wait alive.
      this.retry = setTimeout(() => {
        this.retry = undefined;
        if (!this.stopped) this.connect();
      }, RETRY_STEP_MS * this.failuresInRow);
      return;
    }
    this.failure = this.spec.translate(error);
    for (const listener of [...this.failureListeners]) listener(this.failure);
    this.failureListeners.clear();
  }
}

/** What `waitUntil` needs of a cache: to hear of changes and of failure. */
export interface Watched {
  onChange(listener: () => void): () => void;
  onFailure(listener: (error: ReplicaDemoError) => void): () => void;
}

export interface WaitOptions {
  signal: AbortSignal;
  timeoutMs: number;
  /** The error for a wait that ran out of time, built when it does (it may read the caches). */
  onTimeout: () => Error;
  /** The error for Ctrl-C; a plain "Interrupted." without it. */
  onAbort?: () => Error;
}

/**
 * Resolves with the first non-undefined value `check` returns: checked at once and after
 * every change to any of the caches. Rejects on timeout, on Ctrl-C, when a watch fails for
 * good, or when `check` throws.
 */
export function waitUntil<R>(
  sources: readonly Watched[],
  check: () => R | undefined,
  options: WaitOptions,
): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    let settled = false;
    const cleanups: (() => void)[] = [];
    const finish = (settle: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      for (const cleanup of cleanups) cleanup();
      settle();
    };
    const fail = (error: unknown) =>
      finish(() => reject(error instanceof Error ? error : new Error(String(error))));
    const evaluate = () => {
      if (settled) return;
      try {
        const value = check();
        if (value !== undefined) finish(() => resolve(value));
      } catch (error) {
        fail(error);
      }
    };
    const timer = setTimeout(() => fail(options.onTimeout()), options.timeoutMs);
    const onAbort = () => fail(options.onAbort ? options.onAbort() : new InterruptedError());
    for (const source of sources) {
      cleanups.push(source.onChange(evaluate), source.onFailure(fail));
    }
    if (options.signal.aborted) return onAbort();
    options.signal.addEventListener('abort', onAbort, { once: true });
    cleanups.push(() => options.signal.removeEventListener('abort', onAbort));
    evaluate();
  });
}
