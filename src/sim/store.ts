import { randomSuffix } from '../common/names.js';
import { randomUUID } from 'node:crypto';
import type { ResourceType } from './resources.js';
import {
  matchesFields,
  matchesLabels,
  parseFieldSelector,
  parseLabelSelector,
  type FieldRequirement,
  type Requirement,
} from './selectors.js';

/**
 * The embedded cluster's object store: what etcd plus the generic registry do in a real
 * API server. Objects are plain JSON; every change bumps one global resourceVersion and
 * is delivered, in order, to the watchers whose filters match.
 */

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid: string;
  resourceVersion: string;
  generation?: number;
  creationTimestamp: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  generateName?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  managedFields?: unknown[];
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  // The shapes differ per kind; controllers cast to the typed shape they need.
  spec?: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  status?: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  [key: string]: unknown;
}

/** What a caller hands to `create`: the server fills uid, resourceVersion and timestamps. */
export type NewObject = Omit<KubeObject, 'metadata'> & {
  metadata: Partial<ObjectMeta> & { name?: string };
};

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface WatchEvent {
  type: WatchEventType;
  object: KubeObject;
}

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export interface WatchOptions extends ListOptions {
  /** Replay changes after this version first ('' or '0': start with ADDED for every object). */
  resourceVersion?: string;
}

/** Errors shaped to become a `Status` response. */
export class StoreError extends Error {
  constructor(
    readonly code: number,
    readonly reason:
      | 'NotFound'
      | 'AlreadyExists'
      | 'Conflict'
      | 'Invalid'
      | 'Gone'
      | 'BadRequest'
      | 'Forbidden'
      | 'Unauthorized'
      | 'MethodNotAllowed'
      | 'NotAcceptable'
      | 'UnsupportedMediaType'
      | 'TooManyRequests'
      | 'RequestEntityTooLarge'
      | 'InternalError',
    message: string,
  ) {
    super(message);
  }
}

const HISTORY = 5000;

interface Watcher {
  plural: string;
  namespace: string | undefined;
  labels: Requirement[];
  fields: FieldRequirement[];
  onEvent: (event: WatchEvent) => void;
  active: boolean;
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

function keyOf(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}

/** Kinds whose spec the real registry does not count in a generation. */
const UNGENERATED = new Set(['services', 'nodes', 'namespaces']);

const sortedJson = (value: Record<string, string> | undefined): string =>
  JSON.stringify(Object.entries(value ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/**
 * Whether a write changes what the object asks for, which moves its generation: its spec,
 * and for a Deployment its annotations too, since they are copied to its ReplicaSets.
 */
function asksForMore(type: ResourceType, current: KubeObject, next: KubeObject): boolean {
  if (JSON.stringify(next.spec) !== JSON.stringify(current.spec)) return true;
  return (
    type.plural === 'deployments' &&
    sortedJson(next.metadata.annotations) !== sortedJson(current.metadata.annotations)
  );
}

/** The generation an object would have after this write (a dry run's answer shows it). */
export function generationAfter(
  type: ResourceType,
  current: KubeObject,
  next: KubeObject,
): number | undefined {
  if (UNGENERATED.has(type.plural) || current.metadata.generation === undefined)
    return current.metadata.generation;
  return asksForMore(type, current, next)
    ? current.metadata.generation + 1
    : current.metadata.generation;
}

export class Store {
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private readonly history: { rv: number; plural: string; event: WatchEvent }[] = [];
  private readonly watchers = new Set<Watcher>();
  private rv = 1;
  /** The resourceVersion the watch history starts after; see `compact`. */
  private floor = 0;

  constructor(
    private readonly now: () => Date = () => new Date(),
    private readonly random: () => number = Math.random,
  ) {}

  get resourceVersion(): string {
    return String(this.rv);
  }

  /** Five characters as the real name generator makes them (`-aaaaa` suffixes). */
  randomSuffix(length = 5): string {
    return randomSuffix(this.random, length);
  }

  private bucket(plural: string): Map<string, KubeObject> {
    let b = this.objects.get(plural);
    if (!b) {
      b = new Map();
      this.objects.set(plural, b);
    }
    return b;
  }

  get(type: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    const o = this.bucket(type.plural).get(keyOf(type.namespaced ? namespace : undefined, name));
    return o ? clone(o) : undefined;
  }

  /** Like `get`, but a missing object is a NotFound error worded like the real one. */
  mustGet(type: ResourceType, namespace: string | undefined, name: string): KubeObject {
    const o = this.get(type, namespace, name);
    if (!o) throw notFound(type, name);
    return o;
  }

  list(
    type: ResourceType,
    options: ListOptions = {},
  ): { items: KubeObject[]; resourceVersion: string } {
    const labels = parseLabelSelector(options.labelSelector);
    const fields = parseFieldSelector(options.fieldSelector, type.plural);
    const items = [...this.bucket(type.plural).values()]
      .filter((o) =>
        this.matches(o, type.namespaced ? options.namespace : undefined, labels, fields),
      )
      .sort((a, b) =>
        keyOf(a.metadata.namespace, a.metadata.name).localeCompare(
          keyOf(b.metadata.namespace, b.metadata.name),
        ),
      )
      .map(clone);
    return { items, resourceVersion: this.resourceVersion };
  }

  private matches(
    o: KubeObject,
    namespace: string | undefined,
    labels: Requirement[],
    fields: FieldRequirement[],
  ): boolean {
    if (namespace !== undefined && namespace !== '' && o.metadata.namespace !== namespace)
      return false;
    return matchesLabels(labels, o.metadata.labels) && matchesFields(fields, o);
  }

  create(type: ResourceType, input: NewObject): KubeObject {
    const obj = clone(input) as KubeObject;
    const meta = obj.metadata as Partial<ObjectMeta>;
    if (!meta.name) {
      if (!meta.generateName)
        throw new StoreError(
          422,
          'Invalid',
          `${type.kind} "" is invalid: metadata.name: Required value: name or generateName is required`,
        );
      meta.name = `${meta.generateName}${this.randomSuffix()}`;
    }
    const namespace = type.namespaced ? meta.namespace : undefined;
    if (type.namespaced && !namespace)
      throw new StoreError(
        400,
        'BadRequest',
        'the namespace of the object does not match the namespace on the request',
      );
    if (!type.namespaced) delete meta.namespace;
    const key = keyOf(namespace, meta.name);
    const bucket = this.bucket(type.plural);
    if (bucket.has(key)) {
      throw new StoreError(
        409,
        'AlreadyExists',
        `${type.plural}${type.group ? `.${type.group}` : ''} "${meta.name}" already exists`,
      );
    }
    obj.apiVersion = type.group === '' ? type.version : `${type.group}/${type.version}`;
    obj.kind = type.kind;
    // Defaulting may have chosen the uid already (a Job selects its pods by it).
    meta.uid ??= randomUUID();
    meta.creationTimestamp = this.timestamp();
    if (obj.spec !== undefined && !UNGENERATED.has(type.plural)) meta.generation = 1;
    meta.resourceVersion = String(++this.rv);
    bucket.set(key, obj);
    this.emit(type.plural, 'ADDED', obj);
    return clone(obj);
  }

  /**
   * Read-modify-write in one step. `change` edits the object in place and returns false to
   * make no change. `generation` moves when `spec` changes, as the real registry does
   * (a Deployment's annotations too), unless `status` says this is a status write.
   * With `expectResourceVersion`, a stale writer gets 409 Conflict.
   */
  update(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    change: (obj: KubeObject) => boolean | void,
    expectResourceVersion?: string,
    options: { status?: boolean } = {},
  ): KubeObject {
    const key = keyOf(type.namespaced ? namespace : undefined, name);
    const bucket = this.bucket(type.plural);
    const current = bucket.get(key);
    if (!current) throw notFound(type, name);
    if (expectResourceVersion && expectResourceVersion !== current.metadata.resourceVersion) {
      throw new StoreError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${type.plural}${type.group ? `.${type.group}` : ''} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      );
    }
    const next = clone(current);
    if (change(next) === false) return clone(current);
    // Identity is not the caller's to change.
    next.metadata.name = current.metadata.name;
    next.metadata.namespace = current.metadata.namespace;
    next.metadata.uid = current.metadata.uid;
    next.metadata.creationTimestamp = current.metadata.creationTimestamp;
    next.apiVersion = current.apiVersion;
    next.kind = current.kind;
    if (JSON.stringify(next) === JSON.stringify(current)) return clone(current);
    if (!options.status && !UNGENERATED.has(type.plural) && asksForMore(type, current, next)) {
      next.metadata.generation = (current.metadata.generation ?? 0) + 1;
    } else if (current.metadata.generation !== undefined) {
      next.metadata.generation = current.metadata.generation;
    }
    next.metadata.resourceVersion = String(++this.rv);
    bucket.set(key, next);
    this.emit(type.plural, 'MODIFIED', next);
    return clone(next);
  }

  /** Remove the object now (graceful deletion and finalizers are the caller's business). */
  remove(type: ResourceType, namespace: string | undefined, name: string): KubeObject {
    const key = keyOf(type.namespaced ? namespace : undefined, name);
    const bucket = this.bucket(type.plural);
    const current = bucket.get(key);
    if (!current) throw notFound(type, name);
    bucket.delete(key);
    const gone = clone(current);
    gone.metadata.resourceVersion = String(++this.rv);
    this.emit(type.plural, 'DELETED', gone);
    return clone(gone);
  }

  /**
   * Deliver changes to `onEvent`, asynchronously and in order. With a resourceVersion the
   * changes after it are replayed first; one older than the history is 410 Gone, as in
   * the real API. Without one, every current object arrives as ADDED first.
   * Returns a function that stops the watch.
   */
  watch(
    type: ResourceType,
    options: WatchOptions,
    onEvent: (event: WatchEvent) => void,
  ): () => void {
    const watcher: Watcher = {
      plural: type.plural,
      namespace: type.namespaced ? options.namespace || undefined : undefined,
      labels: parseLabelSelector(options.labelSelector),
      fields: parseFieldSelector(options.fieldSelector, type.plural),
      onEvent,
      active: true,
    };
    const rv = options.resourceVersion;
    const backlog: WatchEvent[] = [];
    if (rv === undefined || rv === '' || rv === '0') {
      for (const o of this.list(type, options).items) backlog.push({ type: 'ADDED', object: o });
    } else {
      const from = Number(rv);
      if (!Number.isFinite(from))
        throw new StoreError(400, 'BadRequest', `invalid resource version "${rv}"`);
      const oldest =
        this.history.length >= HISTORY ? (this.history[0]?.rv ?? this.rv) : this.floor + 1;
      if (from < oldest - 1) {
        throw new StoreError(410, 'Gone', `too old resource version: ${rv} (${oldest - 1})`);
      }
      for (const h of this.history) {
        if (
          h.rv > from &&
          h.plural === type.plural &&
          this.matches(h.event.object, watcher.namespace, watcher.labels, watcher.fields)
        ) {
          backlog.push(clone(h.event));
        }
      }
    }
    this.watchers.add(watcher);
    for (const e of backlog) queueMicrotask(() => watcher.active && watcher.onEvent(e));
    return () => {
      watcher.active = false;
      this.watchers.delete(watcher);
    };
  }

  /**
   * Forget the changes made so far, as a real API server's watch cache starts from a list
   * when it starts: a watch from a resourceVersion before now is then 410 Gone, where it
   * would otherwise replay the cluster's whole start-up.
   */
  compact(): void {
    this.history.length = 0;
    this.floor = this.rv;
  }

  private emit(plural: string, type: WatchEventType, obj: KubeObject): void {
    const event: WatchEvent = { type, object: clone(obj) };
    this.history.push({ rv: this.rv, plural, event });
    if (this.history.length > HISTORY) this.history.shift();
    for (const w of this.watchers) {
      if (w.plural !== plural) continue;
      if (!this.matches(obj, w.namespace, w.labels, w.fields)) continue;
      const copy = clone(event);
      queueMicrotask(() => w.active && w.onEvent(copy));
    }
  }

  timestamp(): string {
    // The API server writes seconds precision (RFC 3339) in metadata.
    return this.now()
      .toISOString()
      .replace(/\.\d{3}Z$/, 'Z');
  }
}

export function notFound(type: ResourceType, name: string): StoreError {
  return new StoreError(
    404,
    'NotFound',
    `${type.plural}${type.group ? `.${type.group}` : ''} "${name}" not found`,
  );
}
