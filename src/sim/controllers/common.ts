import type { KubeObject, OwnerReference, Store, WatchEvent } from '../store.js';
import { matchesLabels, requirementsFromLabelSelector } from '../selectors.js';
import { RESOURCE_TYPES, type ResourceType } from '../resources.js';
import { deleteObject, type DeleteOptions } from '../registry/delete.js';
import { specOf, statusOf, type Condition } from './types.js';

export function resource(plural: string): ResourceType {
  const t = RESOURCE_TYPES.find((r) => r.plural === plural);
  if (!t) throw new Error(`resource type ${plural} missing from RESOURCE_TYPES`);
  return t;
}

export const NAMESPACES = resource('namespaces');
export const NODES = resource('nodes');
export const PODS = resource('pods');
export const SERVICES = resource('services');
export const ENDPOINTS = resource('endpoints');
export const ENDPOINTSLICES = resource('endpointslices');
export const EVENTS = resource('events');
export const DEPLOYMENTS = resource('deployments');
export const REPLICASETS = resource('replicasets');
export const JOBS = resource('jobs');
export const PDBS = resource('poddisruptionbudgets');

export function keyOf(obj: KubeObject): string {
  return `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
}

export function splitKey(key: string): [string, string] {
  const i = key.indexOf('/');
  return [key.slice(0, i), key.slice(i + 1)];
}

export function controllerOf(obj: KubeObject): OwnerReference | undefined {
  return obj.metadata.ownerReferences?.find((r) => r.controller === true);
}

export function ownerReference(owner: KubeObject): OwnerReference {
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata.name,
    uid: owner.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** Objects in `namespace` whose controller is `owner`. */
export function ownedBy(store: Store, type: ResourceType, owner: KubeObject): KubeObject[] {
  return store
    .list(type, { namespace: owner.metadata.namespace ?? '' })
    .items.filter((o) => controllerOf(o)?.uid === owner.metadata.uid);
}

export function podCondition(pod: KubeObject, type: string): Condition | undefined {
  return statusOf<{ conditions: Condition[] }>(pod).conditions?.find((c) => c.type === type);
}

export function isPodReady(pod: KubeObject): boolean {
  return podCondition(pod, 'Ready')?.status === 'True';
}

/** Ready for at least `minReadySeconds` (the controllers' meaning of "available"). */
export function isPodAvailable(pod: KubeObject, minReadySeconds: number, now: Date): boolean {
  const ready = podCondition(pod, 'Ready');
  if (ready?.status !== 'True') return false;
  if (minReadySeconds <= 0) return true;
  const since = Date.parse(ready.lastTransitionTime ?? '');
  return Number.isFinite(since) && now.getTime() - since >= minReadySeconds * 1000;
}

export function isPodTerminal(pod: KubeObject): boolean {
  const phase = statusOf<{ phase: string }>(pod).phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

/** What the ReplicaSet and Job controllers count: not finished and not being deleted. */
export function isPodActive(pod: KubeObject): boolean {
  return !isPodTerminal(pod) && !pod.metadata.deletionTimestamp;
}

/**
 * Delete `pod` as the API does (gracefully, see registry/delete.ts), if it is still there
 * and still the same pod; one already gone or replaced under its name is left alone.
 */
export function deletePod(store: Store, pod: KubeObject, gracePeriodSeconds?: number): void {
  deleteQuietly(store, PODS, pod, { gracePeriodSeconds });
}

/** `deleteObject` for a controller: nothing happens to an object that is gone or replaced. */
export function deleteQuietly(
  store: Store,
  type: ResourceType,
  obj: KubeObject,
  opts: DeleteOptions,
): void {
  const { namespace, name, uid } = obj.metadata;
  if (store.get(type, namespace, name)?.metadata.uid !== uid) return;
  deleteObject(store, type, namespace, name, { ...opts, preconditions: { uid } });
}

/** Remove any object, ignoring one that is already gone. */
export function removeQuietly(
  store: Store,
  type: ResourceType,
  ns: string | undefined,
  name: string,
): void {
  if (store.get(type, ns, name)) store.remove(type, ns, name);
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * The owners to sync when a dependent changes: its controller, when it has one of `ownerKind`;
 * when it has none, every owner in its namespace whose selector matches it, since one of
 * them may adopt it (as the real ReplicaSet and Deployment controllers do).
 */
export function ownersToSync(store: Store, ownerType: ResourceType, event: WatchEvent): string[] {
  const dependent = event.object;
  const namespace = dependent.metadata.namespace ?? '';
  const owner = controllerOf(dependent);
  if (owner) return owner.kind === ownerType.kind ? [`${namespace}/${owner.name}`] : [];
  if (event.type === 'DELETED') return [];
  return store
    .list(ownerType, { namespace })
    .items.filter((candidate) => {
      const selector = requirementsFromLabelSelector(
        specOf<{ selector?: Parameters<typeof requirementsFromLabelSelector>[0] }>(candidate)
          .selector,
      );
      return selector.length > 0 && matchesLabels(selector, dependent.metadata.labels);
    })
    .map(keyOf);
}
