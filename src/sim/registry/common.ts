import { apiVersionOf, resourceByPlural, type ResourceType } from '../resources.js';
import { StoreError, type KubeObject, type NewObject, type Store } from '../store.js';
import { isObject, jsonPatch, mergePatch, strategicMerge, type Json } from '../api/patch.js';
import { ApiError } from '../api/status.js';

/**
 * The registry: what the API server does to objects, apart from HTTP. Create, update, patch
 * and apply (objects.ts), the scale subresource (scale.ts) and deletion (delete.ts), with
 * defaulting, admission, preconditions, graceful pod deletion, namespace termination,
 * finalizers and propagation, as the real server's generic registry and per-kind strategies
 * do them. The HTTP handlers and the controllers both change objects through here, so an
 * object is treated alike whoever changes it. This file holds what those parts share.
 */

/** Pod admission (Pod Security) for pods created or applied. */
export type AdmitPod = (store: Store, pod: NewObject | KubeObject) => void;

export interface WriteOptions {
  dryRun?: boolean;
  /** `status` writes only the status; anything else writes the object. */
  subresource?: string | undefined;
}

function coreType(plural: string): ResourceType {
  const t = resourceByPlural('', plural);
  if (!t) throw new Error(`no resource type ${plural}`);
  return t;
}

export const NAMESPACES = coreType('namespaces');
export const PODS = coreType('pods');
/** The finalizer of an owner whose dependents go first. */
export const FOREGROUND = 'foregroundDeletion';

/** `deployments.apps`, `pods`: how the real server names a resource in messages. */
export function qualified(type: ResourceType): string {
  return type.group ? `${type.plural}.${type.group}` : type.plural;
}

/** A value of a parsed body as message text. */
export function text(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** `metadata` of a request body, or an empty object when it has none. */
export function metaOf(body: Record<string, unknown>): Record<string, unknown> {
  return isObject(body.metadata) ? body.metadata : {};
}

export function conflict(type: ResourceType, name: string): StoreError {
  return new StoreError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualified(type)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
  );
}

/** New objects need their namespace, and a terminating namespace takes nothing new. */
export function requireNamespace(
  store: Store,
  type: ResourceType,
  namespace: string | undefined,
  creating: string,
): void {
  if (!type.namespaced) return;
  const ns = store.get(NAMESPACES, undefined, namespace ?? '');
  if (!ns)
    throw new ApiError(404, 'NotFound', `namespaces "${namespace}" not found`, {
      name: namespace ?? '',
      kind: 'namespaces',
    });
  if (
    ns.metadata.deletionTimestamp ||
    (ns.status as { phase?: string } | undefined)?.phase === 'Terminating'
  ) {
    throw new ApiError(
      403,
      'Forbidden',
      `${qualified(type)} "${creating}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`,
      { name: creating, kind: type.plural, ...(type.group ? { group: type.group } : {}) },
    );
  }
}

/** A body of another kind, version or namespace than the request names is refused. */
export function checkKind(
  type: ResourceType,
  namespace: string | undefined,
  body: Record<string, unknown>,
): void {
  const expected = apiVersionOf(type);
  if (body.kind !== undefined && body.kind !== type.kind)
    throw new ApiError(
      400,
      'BadRequest',
      `the API version in the data (${text(body.apiVersion)}) does not match the expected API version (${expected}) or kind ${text(body.kind)} is not ${type.kind}`,
    );
  if (body.apiVersion !== undefined && body.apiVersion !== expected)
    throw new ApiError(
      400,
      'BadRequest',
      `the API version in the data (${text(body.apiVersion)}) does not match the expected API version (${expected})`,
    );
  const meta = metaOf(body);
  if (
    type.namespaced &&
    meta.namespace !== undefined &&
    meta.namespace !== '' &&
    meta.namespace !== namespace
  )
    throw new ApiError(
      400,
      'BadRequest',
      'the namespace of the provided object does not match the namespace sent on the request',
    );
}

/** Deleted, and no finalizer left to wait for (pods and namespaces have their own ends). */
export function finalized(type: ResourceType, obj: KubeObject): boolean {
  return (
    obj.metadata.deletionTimestamp !== undefined &&
    (obj.metadata.finalizers ?? []).length === 0 &&
    type !== PODS &&
    type !== NAMESPACES
  );
}

export const PATCH_STRATEGIC = 'application/strategic-merge-patch+json';
/** The patch content types PATCH takes besides apply, each with how it applies. */
export const PATCHES: Record<string, (base: Json, patch: Json) => Json> = {
  'application/merge-patch+json': mergePatch,
  [PATCH_STRATEGIC]: strategicMerge,
  'application/json-patch+json': jsonPatch,
};
