import jsonPatchLibrary, { type Operation } from 'fast-json-patch';
import { ApiError } from './status.js';

// CommonJS: Node hands its exports to an ES module as the default export only.
const { applyPatch, JsonPatchError } = jsonPatchLibrary;

/**
 * The patch flavours the real API server accepts, on plain JSON: JSON merge patch
 * (RFC 7386), strategic merge patch (lists of named objects merge by key), JSON patch
 * (RFC 6902), and server-side apply with per-manager field sets in `managedFields`.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function clone<T>(v: T): T {
  return structuredClone(v);
}

export function mergePatch(target: Json | undefined, patch: Json): Json {
  if (!isObject(patch)) return clone(patch);
  const out: JsonObject = isObject(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/**
 * The merge key of a list, as the built-in types declare it (`patchMergeKey`): containers,
 * env, volumes by name; container ports by containerPort; Service ports by port;
 * volumeMounts by mountPath; conditions by type. Other lists are atomic.
 */
export function mergeKeyOf(field: string, items: Json[]): string | undefined {
  const objects = items.filter(isObject);
  if (objects.length === 0 || objects.length !== items.length) return undefined;
  const all = (key: string) => objects.every((o) => o[key] !== undefined);
  if (field === 'ports') {
    if (all('containerPort')) return 'containerPort';
    if (all('port')) return 'port';
  }
  if (field === 'volumeMounts' && all('mountPath')) return 'mountPath';
  if (field === 'conditions' && all('type')) return 'type';
  if (field === 'ownerReferences' && all('uid')) return 'uid';
  if (['tolerations', 'args', 'command', 'finalizers', 'topologySpreadConstraints'].includes(field))
    return undefined;
  if (all('name')) return 'name';
  return undefined;
}

function mergeList(
  field: string,
  live: Json[] | undefined,
  patch: Json[],
  strategic: boolean,
  order?: Json[],
): Json[] {
  const key = mergeKeyOf(field, patch) ?? (live ? mergeKeyOf(field, live) : undefined);
  if (!strategic || !key || !live) {
    return patch
      .filter((p) => !(isObject(p) && p.$patch === 'delete'))
      .map((p) => stripDirectives(p));
  }
  const out = clone(live);
  for (const item of patch) {
    if (!isObject(item)) continue;
    const id = JSON.stringify(item[key]);
    const index = out.findIndex((o) => isObject(o) && JSON.stringify(o[key]) === id);
    if (item.$patch === 'delete') {
      if (index !== -1) out.splice(index, 1);
      continue;
    }
    if (index === -1) out.push(stripDirectives(item));
    else out[index] = strategicMerge(out[index], item);
  }
  return inServerOrder(out, live, order ?? patch, key);
}

/**
 * The order the real strategic merge gives a merged list: the items the patch names (or its
 * `$setElementOrder`, when it has one, as kubectl's computed patches do), in that order,
 * and the others, in the live order, interleaved by where each was in the live list; an
 * item new to the list has no place there, so it comes first.
 */
function inServerOrder(merged: Json[], live: Json[], patch: Json[], key: string): Json[] {
  const idOf = (o: Json) => (isObject(o) ? JSON.stringify(o[key]) : '');
  const patchIds = patch.map(idOf);
  const liveIds = live.map(idOf);
  const named = merged
    .filter((o) => patchIds.includes(idOf(o)))
    .sort((a, b) => patchIds.indexOf(idOf(a)) - patchIds.indexOf(idOf(b)));
  const others = merged.filter((o) => !patchIds.includes(idOf(o)));
  const out: Json[] = [];
  let i = 0;
  let j = 0;
  while (i < named.length || j < others.length) {
    const a = named[i];
    const b = others[j];
    if (
      a !== undefined &&
      (b === undefined || liveIds.indexOf(idOf(a)) < liveIds.indexOf(idOf(b)))
    ) {
      out.push(a);
      i += 1;
    } else if (b !== undefined) {
      out.push(b);
      j += 1;
    }
  }
  return out;
}

function stripDirectives(v: Json): Json {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (!isObject(v)) return v;
  const out: JsonObject = {};
  for (const [k, x] of Object.entries(v)) if (!k.startsWith('$')) out[k] = stripDirectives(x);
  return out;
}

export function strategicMerge(target: Json | undefined, patch: Json): Json {
  if (!isObject(patch)) return clone(patch);
  if (patch.$patch === 'replace') return stripDirectives(patch);
  const out: JsonObject = isObject(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$')) continue; // $setElementOrder, $retainKeys: order and retention hints
    if (v === null) delete out[k];
    else if (Array.isArray(v)) {
      const live = out[k];
      const order = patch[`$setElementOrder/${k}`];
      out[k] = mergeList(
        k,
        Array.isArray(live) ? live : undefined,
        v,
        true,
        Array.isArray(order) ? order : undefined,
      );
    } else if (isObject(v)) out[k] = strategicMerge(out[k], v);
    else out[k] = v;
  }
  return out;
}

/** The operations that carry a value; one sent without gets null, as the API server adds. */
const WITH_VALUE: readonly Json[] = ['add', 'replace', 'test'];

/** What went wrong, worded like the API server's JSON patch errors. */
function jsonPatchMessage(error: unknown): string {
  // The library refuses these paths with a TypeError of its own wording.
  if (error instanceof TypeError && /__proto__/.test(error.message))
    return 'a JSON patch may not change __proto__ or constructor.prototype';
  if (!(error instanceof JsonPatchError))
    return error instanceof Error ? error.message : String(error);
  const op = (isObject(error.operation) ? error.operation : {}) as Partial<Operation>;
  const path = String(op.path);
  switch (error.name) {
    case 'OPERATION_NOT_AN_OBJECT':
    case 'OPERATION_OP_INVALID':
      return `Unexpected kind: ${String(op.op)}`;
    case 'OPERATION_PATH_INVALID':
      return `invalid JSON pointer "${path}"`;
    case 'OPERATION_FROM_REQUIRED':
    case 'OPERATION_FROM_UNRESOLVABLE':
      return `doc is missing key: "${String((op as { from?: unknown }).from)}"`;
    case 'OPERATION_PATH_UNRESOLVABLE':
      if (op.op === 'remove') return `unable to remove nonexistent key: ${path}`;
      if (op.op === 'replace')
        return `replace operation does not apply: doc is missing key: ${path}`;
      return `doc is missing path: "${path}"`;
    case 'OPERATION_PATH_CANNOT_ADD':
      return `doc is missing path: "${path}"`;
    case 'OPERATION_PATH_ILLEGAL_ARRAY_INDEX':
    case 'OPERATION_VALUE_OUT_OF_BOUNDS':
      return `index out of range: ${path}`;
    case 'TEST_OPERATION_FAILED':
      return `testing value ${path} failed`;
    default:
      return error.message;
  }
}

/**
 * A `replace` of a key the object lacks. The API server's JSON patch library (evanphx v4)
 * sets the key then, where RFC 6902 asks for an error; an array index still must exist.
 */
function replacesMissingKey(doc: Json, op: Operation): boolean {
  if (op.op !== 'replace' || typeof op.path !== 'string' || !op.path.startsWith('/')) return false;
  const parts = op.path
    .slice(1)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  const key = parts.pop() ?? '';
  let at: Json | undefined = doc;
  for (const p of parts) {
    if (Array.isArray(at)) at = at[Number(p)];
    else if (isObject(at)) at = Object.hasOwn(at, p) ? at[p] : undefined;
    else return false;
  }
  return isObject(at) && !Object.hasOwn(at, key);
}

/** JSON patch (RFC 6902) of `doc`, which is left as it is; a patch that does not apply is 422. */
export function jsonPatch(doc: Json, ops: unknown): Json {
  if (!Array.isArray(ops))
    throw new ApiError(
      400,
      'BadRequest',
      'json: cannot unmarshal object into Go value of type jsonpatch.Patch',
    );
  const operations = ops.map((o: unknown) =>
    isObject(o) && WITH_VALUE.includes(o.op ?? null) && o.value === undefined
      ? { ...o, value: null }
      : o,
  ) as Operation[];
  try {
    let out = clone(doc);
    for (const op of operations) {
      const step = replacesMissingKey(out, op) ? { ...op, op: 'add' as const } : op;
      out = applyPatch(out, [step as Operation], true, true).newDocument;
    }
    return out;
  } catch (error) {
    throw new ApiError(422, 'Invalid', jsonPatchMessage(error));
  }
}

// ---- server-side apply -------------------------------------------------------------

/** FieldsV1: `f:<field>` for object fields, `k:{"name":"x"}` for keyed list items, `.` for the item itself. */
export type FieldSet = { [key: string]: FieldSet };

/** Fields the server owns and applying never sets. */
const SERVER_FIELDS = new Set([
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'managedFields',
  'selfLink',
]);

/**
 * Fields whose value is one atomic map in the real schemas (`x-kubernetes-map-type: atomic`):
 * a label selector, a fieldRef and the other key selectors of an env var, a node selector.
 * Server-side apply owns, compares and replaces such a value as a whole.
 */
export const ATOMIC_FIELDS: ReadonlySet<string> = new Set([
  'selector',
  'labelSelector',
  'namespaceSelector',
  'nodeSelector',
  'fieldRef',
  'resourceFieldRef',
  'configMapKeyRef',
  'secretKeyRef',
  'fileKeyRef',
]);

export function fieldSetOf(value: Json, field = ''): FieldSet {
  const set: FieldSet = {};
  if (isObject(value)) {
    for (const [k, v] of Object.entries(value)) {
      if (field === 'metadata' && (SERVER_FIELDS.has(k) || k === 'name' || k === 'namespace'))
        continue;
      if (field === '' && (k === 'apiVersion' || k === 'kind' || k === 'status')) continue;
      set[`f:${k}`] = ATOMIC_FIELDS.has(k) && isObject(v) ? {} : fieldSetOf(v, k);
    }
  } else if (Array.isArray(value)) {
    const key = mergeKeyOf(field, value);
    if (key) {
      for (const item of value) {
        if (!isObject(item)) continue;
        const entry = fieldSetOf(item, '');
        entry['.'] = {};
        set[`k:${JSON.stringify({ [key]: item[key] ?? null })}`] = entry;
      }
    }
  }
  return set;
}

/** Remove from `live` what `before` names and `after` no longer does. */
function pruneFields(live: Json, before: FieldSet, after: FieldSet | undefined): void {
  for (const [k, sub] of Object.entries(before)) {
    if (k === '.') continue;
    const still = after?.[k];
    if (k.startsWith('f:') && isObject(live)) {
      const name = k.slice(2);
      if (still === undefined) delete live[name];
      else if (live[name] !== undefined) pruneFields(live[name], sub, still);
    } else if (k.startsWith('k:') && Array.isArray(live)) {
      const ident = JSON.parse(k.slice(2)) as JsonObject;
      const [[field, value]] = Object.entries(ident) as [[string, Json]];
      const index = live.findIndex(
        (o) => isObject(o) && JSON.stringify(o[field]) === JSON.stringify(value),
      );
      if (index === -1) continue;
      if (still === undefined) live.splice(index, 1);
      else pruneFields(live[index] ?? null, sub, still);
    }
  }
}

function applyMerge(live: Json | undefined, applied: Json, field: string): Json {
  if (Array.isArray(applied)) {
    const key = mergeKeyOf(field, applied);
    if (!key || !Array.isArray(live)) return clone(applied);
    const out = clone(live);
    for (const item of applied) {
      if (!isObject(item)) continue;
      const index = out.findIndex(
        (o) => isObject(o) && JSON.stringify(o[key]) === JSON.stringify(item[key]),
      );
      if (index === -1) out.push(clone(item));
      else out[index] = applyMerge(out[index], item, '');
    }
    return out;
  }
  if (!isObject(applied)) return clone(applied);
  const out: JsonObject = isObject(live) ? clone(live) : {};
  for (const [k, v] of Object.entries(applied)) {
    if (v === null) delete out[k];
    else out[k] = ATOMIC_FIELDS.has(k) ? clone(v) : applyMerge(out[k], v, k);
  }
  return out;
}

export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  fieldsType: 'FieldsV1';
  fieldsV1: FieldSet;
  subresource?: string;
}

/**
 * Server-side apply of `applied` (the whole intent of `manager`) onto `live` (undefined
 * when the object is new): fields the manager applied before and omits now are removed,
 * the applied fields are merged in, and the manager's field set is recorded.
 */
export function serverSideApply(
  live: JsonObject | undefined,
  applied: JsonObject,
  manager: string,
  time: string,
): JsonObject {
  const base: JsonObject = live ? clone(live) : {};
  const meta = isObject(base.metadata) ? base.metadata : {};
  const entries = (Array.isArray(meta.managedFields)
    ? meta.managedFields
    : []) as unknown as ManagedFieldsEntry[];
  const previous = entries.find(
    (e) => e.manager === manager && e.operation === 'Apply' && !e.subresource,
  );
  const nextSet = fieldSetOf(applied);
  if (previous) pruneFields(base, previous.fieldsV1, nextSet);
  const body = clone(applied);
  delete body.status;
  const merged = applyMerge(base, body, '') as JsonObject;
  const mergedMeta = isObject(merged.metadata) ? merged.metadata : {};
  for (const k of SERVER_FIELDS)
    if (k !== 'managedFields' && isObject(meta) && meta[k] !== undefined) mergedMeta[k] = meta[k];
  const entry: ManagedFieldsEntry = {
    manager,
    operation: 'Apply',
    apiVersion: typeof applied.apiVersion === 'string' ? applied.apiVersion : '',
    time,
    fieldsType: 'FieldsV1',
    fieldsV1: nextSet,
  };
  const others = entries.filter((e) => e !== previous);
  mergedMeta.managedFields = [...others, entry] as unknown as Json;
  merged.metadata = mergedMeta;
  return merged;
}
