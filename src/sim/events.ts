import type { KubeObject, Store } from './store.js';
import { EVENTS, NAMESPACES } from './controllers/common.js';

export type EventType = 'Normal' | 'Warning';

export interface EventOptions {
  /** The node name for kubelet events (`source.host`). */
  host?: string;
  /** `spec.containers{web}` for events about one container. */
  fieldPath?: string;
}

// Like the real event correlator: a repeat of the same event bumps `count` on one object
// rather than adding another. Keyed by what makes two events "the same".
const recent = new WeakMap<Store, Map<string, string>>();

/**
 * Write a core/v1 Event about `obj`, shaped like the ones the real components write
 * (involvedObject, source, first/last timestamps, count).
 */
export function recordEvent(
  store: Store,
  obj: KubeObject,
  type: EventType,
  reason: string,
  message: string,
  component: string,
  options: EventOptions = {},
): void {
  const namespace = obj.metadata.namespace ?? 'default';
  // Events in a namespace that is gone or going would outlive it.
  const ns = store.get(NAMESPACES, undefined, namespace);
  if (!ns || ns.metadata.deletionTimestamp) return;
  let seen = recent.get(store);
  if (!seen) {
    seen = new Map();
    recent.set(store, seen);
  }
  const key = [obj.metadata.uid, options.fieldPath ?? '', type, reason, message, component].join(
    '\u0000',
  );
  const now = store.timestamp();
  const existing = seen.get(key);
  if (existing && store.get(EVENTS, namespace, existing)) {
    store.update(EVENTS, namespace, existing, (e) => {
      e.count = (typeof e.count === 'number' ? e.count : 1) + 1;
      e.lastTimestamp = now;
    });
    return;
  }
  // The real name: involved object's name, a dot, and a hex timestamp.
  const name = `${obj.metadata.name}.${uniqueHex()}`;
  store.create(EVENTS, {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name, namespace },
    // An ObjectReference's fields in the Go type's order, as the API server writes them.
    involvedObject: {
      kind: obj.kind,
      namespace: obj.metadata.namespace,
      name: obj.metadata.name,
      uid: obj.metadata.uid,
      apiVersion: obj.apiVersion,
      resourceVersion: obj.metadata.resourceVersion,
      ...(options.fieldPath ? { fieldPath: options.fieldPath } : {}),
    },
    reason,
    message,
    source: { component, ...(options.host ? { host: options.host } : {}) },
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
    type,
    eventTime: null,
    reportingComponent: component,
    reportingInstance: options.host ?? '',
  });
  seen.set(key, name);
  if (seen.size > 5000) {
    const first = seen.keys().next().value;
    if (first !== undefined) seen.delete(first);
  }
}

let lastHex = 0n;
function uniqueHex(): string {
  let n = BigInt(Date.now()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
  if (n <= lastHex) n = lastHex + 1n;
  lastHex = n;
  return n.toString(16);
}

/** The API server's default `--event-ttl`: events older than this are removed. */
export const EVENT_TTL_MS = 60 * 60 * 1000;

/** Removes events whose last occurrence is older than the TTL, once a minute. */
export class EventReaper {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: Store,
    private readonly now: () => Date,
    private readonly ttlMs = EVENT_TTL_MS,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.sweep(), 60_000);
    this.timer.unref();
  }

  stop(): Promise<void> {
    clearInterval(this.timer);
    return Promise.resolve();
  }

  /** Returns how many events were removed. */
  sweep(): number {
    const cutoff = this.now().getTime() - this.ttlMs;
    let removed = 0;
    for (const e of this.store.list(EVENTS).items) {
      const stamp =
        typeof e.lastTimestamp === 'string' ? e.lastTimestamp : e.metadata.creationTimestamp;
      const last = Date.parse(stamp);
      if (Number.isFinite(last) && last < cutoff) {
        this.store.remove(EVENTS, e.metadata.namespace, e.metadata.name);
        removed += 1;
      }
    }
    return removed;
  }
}
