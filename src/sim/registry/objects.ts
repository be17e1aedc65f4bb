import { apiVersionOf, type ResourceType } from '../resources.js';
import { generationAfter, type KubeObject, type NewObject, type Store } from '../store.js';
import { prepareCreate, prepareUpdate } from '../defaults.js';
import {
  fieldSetOf,
  isObject,
  serverSideApply,
  type Json,
  type ManagedFieldsEntry,
} from '../api/patch.js';
import { checkApplyConflicts } from '../api/conflicts.js';
import { ApiError, unsupported } from '../api/status.js';
import {
  NAMESPACES,
  PATCHES,
  PODS,
  checkKind,
  conflict,
  finalized,
  metaOf,
  qualified,
  requireNamespace,
  text,
  type AdmitPod,
  type WriteOptions,
} from './common.js';

/** Create, update, patch and server-side apply of whole objects (or their status). */

function nameMismatch(given: unknown, name: string): ApiError {
  return new ApiError(
    400,
    'BadRequest',
    `the name of the object (${text(given)}) does not match the name on the URL (${name})`,
  );
}

/** The real server leaves out empty label and annotation maps (`omitempty`). */
function dropEmptyMaps(obj: KubeObject): void {
  for (const key of ['labels', 'annotations', 'finalizers', 'ownerReferences'] as const) {
    const v: unknown = obj.metadata[key];
    if (
      v !== undefined &&
      (Array.isArray(v) ? v.length === 0 : Object.keys(v as object).length === 0)
    )
      delete obj.metadata[key];
  }
}

function updateEntry(
  store: Store,
  manager: string,
  obj: Record<string, unknown>,
  apiVersion: string,
): ManagedFieldsEntry {
  return {
    manager,
    operation: 'Update',
    apiVersion,
    time: store.timestamp(),
    fieldsType: 'FieldsV1',
    fieldsV1: fieldSetOf(obj as Json),
  };
}

export interface CreateOptions {
  /** Who creates it, recorded in `managedFields`. */
  manager: string;
  dryRun?: boolean;
  admitPod?: AdmitPod | undefined;
}

/** POST: a new object from `body`, defaulted, validated and admitted. */
export function createObject(
  store: Store,
  type: ResourceType,
  namespace: string | undefined,
  body: Record<string, unknown>,
  opts: CreateOptions,
): KubeObject {
  checkKind(type, namespace, body);
  const meta = metaOf(body);
  const displayName = typeof meta.name === 'string' ? meta.name : '';
  if (type.namespaced && !namespace)
    throw new ApiError(
      404,
      'NotFound',
      'the server could not find the requested resource: a namespaced object is created under /namespaces/<ns>/',
    );
  requireNamespace(store, type, namespace, displayName);
  for (const k of [
    'uid',
    'resourceVersion',
    'creationTimestamp',
    'deletionTimestamp',
    'deletionGracePeriodSeconds',
    'generation',
    'managedFields',
    'selfLink',
  ])
    delete meta[k];
  if (type.namespaced) meta.namespace = namespace;
  body.metadata = meta;
  if (type !== NAMESPACES) delete body.status;
  body.apiVersion = apiVersionOf(type);
  body.kind = type.kind;
  const prepared = prepareCreate(store, type, body as unknown as NewObject);
  if (type === PODS) opts.admitPod?.(store, prepared);
  (prepared.metadata as Record<string, unknown>).managedFields = [
    updateEntry(store, opts.manager, body, apiVersionOf(type)),
  ];
  if (opts.dryRun) {
    const preview = structuredClone(prepared) as unknown as KubeObject;
    preview.metadata.uid ??= crypto.randomUUID();
    preview.metadata.creationTimestamp = store.timestamp();
    preview.metadata.name ??= `${String(prepared.metadata.generateName ?? '')}${store.randomSuffix()}`;
    return preview;
  }
  return store.create(type, prepared);
}

/** What neither an update nor a patch may change: identity and the deletion marks. */
const KEPT_ON_WRITE = [
  'uid',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'generation',
] as const;

/** `next` as the object to store, keeping what the request may not change. */
function mergeWrite(
  store: Store,
  type: ResourceType,
  current: KubeObject,
  next: Record<string, unknown>,
  onlyStatus: boolean,
): KubeObject {
  if (onlyStatus) {
    const merged = structuredClone(current);
    merged.status = next.status;
    return merged;
  }
  const nextMeta = metaOf(next);
  const merged = structuredClone(next) as unknown as KubeObject;
  merged.metadata = { ...(nextMeta as unknown as KubeObject['metadata']) };
  for (const k of KEPT_ON_WRITE) {
    if (current.metadata[k] === undefined) delete merged.metadata[k];
    else (merged.metadata as unknown as Record<string, unknown>)[k] = current.metadata[k];
  }
  if (type.subresources.includes('status')) merged.status = current.status as unknown;
  if (!nextMeta.managedFields) merged.metadata.managedFields = current.metadata.managedFields;
  prepareUpdate(store, type, merged, current);
  return merged;
}

/**
 * Writes `next` over the live object, keeping what the request may not change; an object
 * being deleted whose last finalizer this write removed is gone afterwards.
 */
function writeObject(
  store: Store,
  type: ResourceType,
  namespace: string | undefined,
  name: string,
  next: Record<string, unknown>,
  expectRv: string | undefined,
  opts: WriteOptions,
): KubeObject {
  const current = store.mustGet(type, namespace, name);
  if (expectRv && expectRv !== current.metadata.resourceVersion) throw conflict(type, name);
  const nextMeta = metaOf(next);
  if (nextMeta.name !== undefined && nextMeta.name !== name)
    throw nameMismatch(nextMeta.name, name);
  checkKind(type, namespace, next);
  const merged = mergeWrite(store, type, current, next, opts.subresource === 'status');
  if (opts.dryRun) {
    merged.metadata.name = current.metadata.name;
    merged.metadata.resourceVersion = current.metadata.resourceVersion;
    if (opts.subresource !== 'status') {
      const generation = generationAfter(type, current, merged);
      if (generation !== undefined) merged.metadata.generation = generation;
    }
    return merged;
  }
  dropEmptyMaps(merged);
  const written = store.update(type, namespace, name, (obj) => {
    for (const k of Object.keys(obj)) if (k !== 'metadata') delete obj[k];
    Object.assign(obj, merged, {
      metadata: { ...merged.metadata, resourceVersion: obj.metadata.resourceVersion },
    });
  });
  if (finalized(type, written)) store.remove(type, namespace, name);
  return written;
}

/** PUT: `body` replaces the object (or its status), with an optional resourceVersion precondition. */
export function updateObject(
  store: Store,
  type: ResourceType,
  namespace: string | undefined,
  name: string,
  body: Record<string, unknown>,
  opts: WriteOptions,
): KubeObject {
  const meta = metaOf(body);
  const rv =
    typeof meta.resourceVersion === 'string' && meta.resourceVersion !== ''
      ? meta.resourceVersion
      : undefined;
  const current = store.mustGet(type, namespace, name);
  if (type.namespaced) meta.namespace = namespace;
  body.metadata = meta;
  body.apiVersion ??= current.apiVersion;
  body.kind ??= current.kind;
  return writeObject(store, type, namespace, name, body, rv, opts);
}

/** PATCH with a merge, strategic merge or JSON patch (`patch` already parsed). */
export function patchObject(
  store: Store,
  type: ResourceType,
  namespace: string | undefined,
  name: string,
  contentType: string,
  patch: unknown,
  opts: WriteOptions & { check?: (next: unknown) => void },
): KubeObject {
  const current = store.mustGet(type, namespace, name);
  if (patch === undefined) throw new ApiError(400, 'BadRequest', 'the patch body is empty');
  const apply = PATCHES[contentType];
  if (!apply)
    throw unsupported(
      415,
      `the patch content type "${contentType}" (use application/merge-patch+json, application/strategic-merge-patch+json, application/json-patch+json or application/apply-patch+yaml)`,
    );
  const next = apply(current as unknown as Json, patch as Json);
  if (!isObject(next))
    throw new ApiError(400, 'BadRequest', 'the patched object must be a JSON object');
  opts.check?.(next);
  const nextMeta = metaOf(next);
  const patchMeta = isObject(patch) ? metaOf(patch) : {};
  const rv = typeof patchMeta.resourceVersion === 'string' ? patchMeta.resourceVersion : undefined;
  nextMeta.resourceVersion = current.metadata.resourceVersion;
  return writeObject(store, type, namespace, name, next, rv, opts);
}

export interface ApplyOptions extends WriteOptions {
  manager: string;
  /** `force=true` (kubectl's --force-conflicts): take the fields over from other managers. */
  force?: boolean;
  admitPod?: AdmitPod | undefined;
}

/** Server-side apply: creates the object when it does not exist yet (`created`). */
export function applyObject(
  store: Store,
  type: ResourceType,
  namespace: string | undefined,
  name: string,
  applied: Record<string, Json>,
  opts: ApplyOptions,
): { object: KubeObject; created: boolean } {
  checkKind(type, namespace, applied);
  const appliedMeta = metaOf(applied);
  if (appliedMeta.name !== undefined && appliedMeta.name !== name)
    throw nameMismatch(appliedMeta.name, name);
  const current = store.get(type, namespace, name) as unknown as Record<string, Json> | undefined;
  const time = store.timestamp();
  if (opts.subresource === 'status') {
    if (!current) throw new ApiError(404, 'NotFound', `${qualified(type)} "${name}" not found`);
    const merged = serverSideApply(current, { status: applied.status ?? {} }, opts.manager, time);
    return {
      object: writeObject(store, type, namespace, name, merged, undefined, opts),
      created: false,
    };
  }
  if (current) {
    if (!opts.force) checkApplyConflicts(current, applied, fieldSetOf(applied), opts.manager);
    const merged = serverSideApply(current, applied, opts.manager, time);
    return {
      object: writeObject(store, type, namespace, name, merged, undefined, opts),
      created: false,
    };
  }
  requireNamespace(store, type, namespace, name);
  const merged = serverSideApply(undefined, applied, opts.manager, time);
  const meta = merged.metadata as Record<string, Json>;
  meta.name = name;
  if (type.namespaced) meta.namespace = namespace ?? null;
  merged.apiVersion = apiVersionOf(type);
  merged.kind = type.kind;
  const prepared = prepareCreate(store, type, merged as unknown as NewObject);
  if (type === PODS) opts.admitPod?.(store, prepared);
  if (opts.dryRun) return { object: prepared as unknown as KubeObject, created: true };
  return { object: store.create(type, prepared), created: true };
}
