import { ApiError } from './status.js';

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
      out[k] = mergeList(k, Array.isArray(live) ? live : undefined, v, true);
    } else if (isObject(v)) out[k] = strategicMerge(out[k], v);
    else out[k] = v;
  }
  return out;
}

interface JsonPatchOp {
  op: string;
  path: string;
  from?: string;
  value?: Json;
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw badPatch(`invalid JSON pointer "${path}"`);
  return path
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function badPatch(message: string): ApiError {
  return new ApiError(422, 'Invalid', message);
}

function parentOf(doc: Json, parts: string[]): { parent: Json; last: string } {
  let cur: Json = doc;
  for (const p of parts.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[Number(p)] ?? null;
    else if (isObject(cur)) cur = cur[p] ?? null;
    else cur = null;
    if (cur === null) throw badPatch(`doc is missing path: "/${parts.join('/')}"`);
  }
  return { parent: cur, last: parts[parts.length - 1] ?? '' };
}

function getAt(doc: Json, path: string): Json {
  const parts = pointer(path);
  if (parts.length === 0) return doc;
  const { parent, last } = parentOf(doc, parts);
  const v = Array.isArray(parent)
    ? parent[Number(last)]
    : isObject(parent)
      ? parent[last]
      : undefined;
  if (v === undefined) throw badPatch(`doc is missing key: "${path}"`);
  return v;
}

function removeAt(doc: Json, path: string): Json {
  const parts = pointer(path);
  const { parent, last } = parentOf(doc, parts);
  if (Array.isArray(parent)) {
    const i = Number(last);
    if (!(i >= 0 && i < parent.length)) throw badPatch(`unable to remove nonexistent key: ${path}`);
    return parent.splice(i, 1)[0] ?? null;
  }
  if (isObject(parent) && last in parent) {
    const v = parent[last] ?? null;
    delete parent[last];
    return v;
  }
  throw badPatch(`unable to remove nonexistent key: ${last}: missing value`);
}

function addAt(doc: Json, path: string, value: Json, replace: boolean): Json {
  const parts = pointer(path);
  if (parts.length === 0) return clone(value);
  const { parent, last } = parentOf(doc, parts);
  if (Array.isArray(parent)) {
    const i = last === '-' ? parent.length : Number(last);
    if (!(i >= 0 && i <= parent.length)) throw badPatch(`index out of range: ${path}`);
    if (replace) parent[i] = clone(value);
    else parent.splice(i, 0, clone(value));
  } else if (isObject(parent)) {
    if (replace && !(last in parent))
      throw badPatch(`replace operation does not apply: doc is missing key: ${path}`);
    parent[last] = clone(value);
  } else throw badPatch(`doc is missing path: ${path}`);
  return doc;
}

export function jsonPatch(doc: Json, ops: unknown): Json {
  if (!Array.isArray(ops))
    throw new ApiError(
      400,
      'BadRequest',
      'json: cannot unmarshal object into Go value of type jsonpatch.Patch',
    );
  let out = clone(doc);
  for (const raw of ops as JsonPatchOp[]) {
    switch (raw.op) {
      case 'add':
        out = addAt(out, raw.path, raw.value ?? null, false);
        break;
      case 'replace':
        out = addAt(out, raw.path, raw.value ?? null, true);
        break;
      case 'remove':
        removeAt(out, raw.path);
        break;
      case 'move': {
        const v = removeAt(out, raw.from ?? '');
        out = addAt(out, raw.path, v, false);
        break;
      }
      case 'copy':
        out = addAt(out, raw.path, getAt(out, raw.from ?? ''), false);
        break;
      case 'test':
        if (JSON.stringify(getAt(out, raw.path)) !== JSON.stringify(raw.value ?? null))
          throw badPatch(`testing value ${raw.path} failed`);
        break;
      default:
        throw badPatch(`Unexpected kind: ${String(raw.op)}`);
    }
  }
  return out;
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

export function fieldSetOf(value: Json, field = ''): FieldSet {
  const set: FieldSet = {};
  if (isObject(value)) {
    for (const [k, v] of Object.entries(value)) {
      if (field === 'metadata' && (SERVER_FIELDS.has(k) || k === 'name' || k === 'namespace'))
        continue;
      if (field === '' && (k === 'apiVersion' || k === 'kind' || k === 'status')) continue;
      set[`f:${k}`] = fieldSetOf(v, k);
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
    else out[k] = applyMerge(out[k], v, k);
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
