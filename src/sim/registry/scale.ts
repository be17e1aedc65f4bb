import type { ResourceType } from '../resources.js';
import type { KubeObject, Store } from '../store.js';
import { isObject, type Json } from '../api/patch.js';
import { ApiError, unsupported } from '../api/status.js';
import { PATCHES, PATCH_STRATEGIC, conflict, metaOf, type WriteOptions } from './common.js';

/** The `scale` subresource of a Deployment or ReplicaSet (autoscaling/v1 Scale). */
export function readScale(
  store: Store,
  type: ResourceType,
  namespace: string | undefined,
  name: string,
): KubeObject {
  return scaleOf(store.mustGet(type, namespace, name));
}

function scaleOf(obj: KubeObject): KubeObject {
  const spec = (obj.spec ?? {}) as {
    replicas?: number;
    selector?: { matchLabels?: Record<string, string> };
  };
  const status = (obj.status ?? {}) as { replicas?: number };
  const matchLabels = spec.selector?.matchLabels ?? {};
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name: obj.metadata.name,
      namespace: obj.metadata.namespace,
      uid: obj.metadata.uid,
      resourceVersion: obj.metadata.resourceVersion,
      creationTimestamp: obj.metadata.creationTimestamp,
    },
    spec: { replicas: spec.replicas ?? 0 },
    status: {
      replicas: status.replicas ?? 0,
      selector: Object.entries(matchLabels)
        .map(([k, v]) => `${k}=${v}`)
        .join(','),
    },
  };
}

/** A patch of the Scale: apply patches merge like strategic ones there. */
export function patchScale(
  store: Store,
  type: ResourceType,
  namespace: string | undefined,
  name: string,
  contentType: string,
  patch: unknown,
  opts: WriteOptions,
): KubeObject {
  const scale = readScale(store, type, namespace, name);
  const apply =
    PATCHES[contentType === 'application/apply-patch+yaml' ? PATCH_STRATEGIC : contentType];
  if (!apply)
    throw unsupported(415, `the patch content type "${contentType}" on ${type.plural}/scale`);
  const next = apply(scale as unknown as Json, patch as Json);
  return writeScale(store, type, namespace, name, next, undefined, opts);
}

/** A PUT of the Scale, with the resourceVersion precondition its metadata may carry. */
export function updateScale(
  store: Store,
  type: ResourceType,
  namespace: string | undefined,
  name: string,
  body: unknown,
  opts: WriteOptions,
): KubeObject {
  const meta = isObject(body) ? metaOf(body) : {};
  const rv =
    typeof meta.resourceVersion === 'string' && meta.resourceVersion !== ''
      ? meta.resourceVersion
      : undefined;
  return writeScale(store, type, namespace, name, body, rv, opts);
}

function writeScale(
  store: Store,
  type: ResourceType,
  namespace: string | undefined,
  name: string,
  next: unknown,
  expectRv: string | undefined,
  opts: WriteOptions,
): KubeObject {
  const current = store.mustGet(type, namespace, name);
  if (!isObject(next))
    throw new ApiError(400, 'BadRequest', 'the request body must be a JSON object');
  const spec = (isObject(next.spec) ? next.spec : {}) as Record<string, unknown>;
  const replicas = spec.replicas;
  if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0)
    throw invalidReplicas(name, replicas);
  if (expectRv && expectRv !== current.metadata.resourceVersion) throw conflict(type, name);
  if (opts.dryRun) return { ...scaleOf(current), spec: { replicas } };
  const written = store.update(type, namespace, name, (obj) => {
    obj.spec = { ...(obj.spec as object), replicas };
  });
  return scaleOf(written);
}

function invalidReplicas(name: string, replicas: unknown): ApiError {
  const why = `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`;
  return new ApiError(
    422,
    'Invalid',
    `Scale.autoscaling "${name}" is invalid: spec.replicas: ${why}`,
    {
      name,
      group: 'autoscaling',
      kind: 'Scale',
      causes: [{ reason: 'FieldValueInvalid', message: why, field: 'spec.replicas' }],
    },
  );
}
