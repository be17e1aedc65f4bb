import { RESOURCE_TYPES, type ResourceType } from '../resources.js';
import { StoreError, type KubeObject, type Store } from '../store.js';
import { ApiError, success, type Status } from '../api/status.js';
import { FOREGROUND, NAMESPACES, PODS, finalized, qualified } from './common.js';

/**
 * Deletion as the API server does it, for the HTTP handlers and the controllers alike:
 * preconditions, graceful pods, terminating namespaces, finalizers and propagation.
 */

export interface DeleteOptions {
  propagationPolicy?: string | undefined;
  gracePeriodSeconds?: number | undefined;
  preconditions?: { uid?: string; resourceVersion?: string } | undefined;
  dryRun?: boolean;
}

const SYSTEM_NAMESPACES = new Set(['default', 'kube-system', 'kube-public', 'kube-node-lease']);
const DEFAULT_GRACE_SECONDS = 30;

function checkPreconditions(
  type: ResourceType,
  name: string,
  current: KubeObject,
  pre: DeleteOptions['preconditions'],
): void {
  const failed = (what: string, given: string, have: string) =>
    new StoreError(
      409,
      'Conflict',
      `Operation cannot be fulfilled on ${qualified(type)} "${name}": Precondition failed: ${what} in precondition: ${given}, ${what} in object meta: ${have}`,
    );
  if (pre?.uid && pre.uid !== current.metadata.uid)
    throw failed('UID', pre.uid, current.metadata.uid);
  if (pre?.resourceVersion && pre.resourceVersion !== current.metadata.resourceVersion)
    throw failed('ResourceVersion', pre.resourceVersion, current.metadata.resourceVersion);
}

/** RFC 3339 at seconds, as the API server writes times in metadata. */
function secondsLater(iso: string, seconds: number): string {
  return new Date(Date.parse(iso) + seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * A pod is deleted gracefully, as the real server does it: marked with deletionTimestamp =
 * now + the grace period (the request's, else the pod's terminationGracePeriodSeconds) and
 * left to its kubelet, which stops it and removes it. A pod no kubelet has taken (no node),
 * or one deleted with grace 0, is removed at once, after the same mark with grace 0 (watchers
 * see it terminating, then deleted, as from the real server); a second delete may only
 * shorten the grace.
 */
function deletePodGracefully(
  store: Store,
  current: KubeObject,
  gracePeriodSeconds: number | undefined,
): KubeObject {
  const { namespace, name } = current.metadata;
  const podSpec = (current.spec ?? {}) as {
    nodeName?: string;
    terminationGracePeriodSeconds?: number;
  };
  const grace = Math.max(
    0,
    gracePeriodSeconds ??
      current.metadata.deletionGracePeriodSeconds ??
      podSpec.terminationGracePeriodSeconds ??
      DEFAULT_GRACE_SECONDS,
  );
  const now = store.timestamp();
  const mark = (seconds: number) =>
    store.update(PODS, namespace, name, (obj) => {
      obj.metadata.deletionTimestamp = secondsLater(now, seconds);
      obj.metadata.deletionGracePeriodSeconds = seconds;
    });
  if (grace === 0 || !podSpec.nodeName) {
    if (current.metadata.deletionGracePeriodSeconds !== 0) mark(0);
    return store.remove(PODS, namespace, name);
  }
  const previous = current.metadata.deletionGracePeriodSeconds;
  if (previous !== undefined && previous <= grace) return current;
  return mark(grace);
}

/** A namespace is marked Terminating; the namespace controller empties and removes it. */
function terminateNamespace(store: Store, current: KubeObject): KubeObject {
  const name = current.metadata.name;
  if (SYSTEM_NAMESPACES.has(name))
    throw new ApiError(
      403,
      'Forbidden',
      `namespaces "${name}" is forbidden: this namespace may not be deleted`,
      { name, kind: 'namespaces' },
    );
  if (current.metadata.deletionTimestamp) return current;
  const now = store.timestamp();
  return store.update(NAMESPACES, undefined, name, (obj) => {
    obj.metadata.deletionTimestamp = now;
    obj.metadata.deletionGracePeriodSeconds = 0;
    obj.spec = { ...(obj.spec as object), finalizers: ['kubernetes'] };
    obj.status = { ...(obj.status as object), phase: 'Terminating' };
  });
}

/**
 * DELETE of one object: graceful for pods, termination for namespaces, and for the rest
 * finalizers and propagation (`Orphan`, `Background`, `Foreground`; Jobs orphan their pods
 * unless told otherwise, as the real batch API does). Returns the object as it is now, or,
 * when a non-pod object is gone at once, a Success Status.
 */
export function deleteObject(
  store: Store,
  type: ResourceType,
  namespace: string | undefined,
  name: string,
  opts: DeleteOptions,
): KubeObject | Status {
  const current = store.mustGet(type, namespace, name);
  checkPreconditions(type, name, current, opts.preconditions);
  if (opts.dryRun) return current;
  if (type === PODS) return deletePodGracefully(store, current, opts.gracePeriodSeconds);
  if (type === NAMESPACES) return terminateNamespace(store, current);
  const policy = opts.propagationPolicy ?? (type.plural === 'jobs' ? 'Orphan' : 'Background');
  const finalizers = current.metadata.finalizers ?? [];
  if (policy === 'Foreground' || finalizers.length > 0) {
    if (current.metadata.deletionTimestamp) return current;
    const now = store.timestamp();
    return store.update(type, namespace, name, (obj) => {
      obj.metadata.deletionTimestamp = now;
      obj.metadata.deletionGracePeriodSeconds = 0;
      if (policy === 'Foreground' && !finalizers.includes(FOREGROUND))
        obj.metadata.finalizers = [...finalizers, FOREGROUND];
    });
  }
  if (policy === 'Orphan') orphanDependents(store, current);
  store.remove(type, namespace, name);
  return success(type, name, current.metadata.uid);
}

/** Removes `finalizer`; an object being deleted with none left is then removed. */
export function removeFinalizer(
  store: Store,
  type: ResourceType,
  namespace: string | undefined,
  name: string,
  finalizer: string,
): void {
  const updated = store.update(type, namespace, name, (o) => {
    o.metadata.finalizers = (o.metadata.finalizers ?? []).filter((f) => f !== finalizer);
  });
  if (finalized(type, updated) && store.get(type, namespace, name))
    store.remove(type, namespace, name);
}

function orphanDependents(store: Store, owner: KubeObject): void {
  const uid = owner.metadata.uid;
  for (const type of RESOURCE_TYPES) {
    if (!type.namespaced) continue;
    for (const dep of store.list(type, { namespace: owner.metadata.namespace }).items) {
      if (!(dep.metadata.ownerReferences ?? []).some((r) => r.uid === uid)) continue;
      store.update(type, dep.metadata.namespace, dep.metadata.name, (obj) => {
        const rest = (obj.metadata.ownerReferences ?? []).filter((r) => r.uid !== uid);
        if (rest.length) obj.metadata.ownerReferences = rest;
        else delete obj.metadata.ownerReferences;
      });
    }
  }
}

/** DELETE of a collection: each of `items` as `deleteObject` would; those already gone are skipped. */
export function deleteCollection(
  store: Store,
  type: ResourceType,
  items: readonly KubeObject[],
  opts: DeleteOptions,
): KubeObject[] {
  const deleted: KubeObject[] = [];
  for (const item of items) {
    try {
      const result = deleteObject(store, type, item.metadata.namespace, item.metadata.name, opts);
      deleted.push(result.kind === 'Status' ? item : (result as KubeObject));
    } catch (error) {
      if (!(error instanceof StoreError && error.code === 404)) throw error;
    }
  }
  return deleted;
}
