import { ApiError } from './status.js';
import { stableJson } from '../controllers/deployment.js';
import {
  ATOMIC_FIELDS,
  isObject,
  type FieldSet,
  type Json,
  type ManagedFieldsEntry,
} from './patch.js';

/**
 * Server-side apply's conflicts: a field the applier sets to a value other than the live
 * one, while another manager owns it, is refused (409) unless the apply is forced, as the
 * real API server does. Fields are compared leaf by leaf, an atomic map (a fieldRef, a
 * selector) as one value, defaulted fields and all.
 */

interface Found {
  path: string;
  manager: string;
}

function child(value: Json | undefined, key: string): Json | undefined {
  if (key.startsWith('f:')) return isObject(value) ? value[key.slice(2)] : undefined;
  if (key.startsWith('k:') && Array.isArray(value)) {
    const want = JSON.parse(key.slice(2)) as Record<string, Json>;
    return value.find(
      (item) =>
        isObject(item) &&
        Object.entries(want).every(([k, v]) => JSON.stringify(item[k]) === JSON.stringify(v)),
    );
  }
  if (key.startsWith('v:') && Array.isArray(value)) {
    const want = key.slice(2);
    return value.find((item) => JSON.stringify(item) === want);
  }
  return undefined;
}

function label(key: string): string {
  if (key.startsWith('f:')) return `.${key.slice(2)}`;
  if (key.startsWith('k:')) {
    const want = JSON.parse(key.slice(2)) as Record<string, Json>;
    return `[${Object.entries(want)
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join(',')}]`;
  }
  return `[${key.slice(2)}]`;
}

function owns(set: FieldSet | undefined, keys: string[]): boolean {
  let at = set;
  for (const k of keys) {
    at = at?.[k];
    if (at === undefined) return false;
  }
  return true;
}

function walk(
  set: FieldSet,
  applied: Json | undefined,
  live: Json | undefined,
  keys: string[],
  others: ManagedFieldsEntry[],
  out: Found[],
): void {
  const children = Object.keys(set).filter((k) => k !== '.');
  if (children.length === 0) {
    // A map whose fields were all left out (metadata with only a name) sets nothing.
    const last = keys[keys.length - 1] ?? '';
    const atomic = last.startsWith('f:') && ATOMIC_FIELDS.has(last.slice(2));
    if ((isObject(applied) && !atomic) || stableJson(applied) === stableJson(live)) return;
    const owner = others.find((e) => owns(e.fieldsV1, keys));
    if (owner) out.push({ path: keys.map(label).join(''), manager: owner.manager });
    return;
  }
  for (const k of children)
    walk(set[k] ?? {}, child(applied, k), child(live, k), [...keys, k], others, out);
}

export function checkApplyConflicts(
  live: Json,
  applied: Json,
  appliedSet: FieldSet,
  manager: string,
): void {
  const meta = isObject(live) && isObject(live.metadata) ? live.metadata : {};
  const entries = (Array.isArray(meta.managedFields)
    ? meta.managedFields
    : []) as unknown as ManagedFieldsEntry[];
  const others = entries.filter((e) => e.manager !== manager && !e.subresource);
  const found: Found[] = [];
  walk(appliedSet, applied, live, [], others, found);
  if (found.length === 0) return;
  const byManager = new Map<string, string[]>();
  for (const f of found) byManager.set(f.manager, [...(byManager.get(f.manager) ?? []), f.path]);
  const message =
    found.length === 1
      ? `Apply failed with 1 conflict: conflict with "${found[0]?.manager ?? ''}": ${found[0]?.path ?? ''}`
      : `Apply failed with ${found.length} conflicts: ${[...byManager]
          .map(
            ([m, paths]) =>
              `conflicts with "${m}":\n${paths
                .sort()
                .map((p) => `- ${p}`)
                .join('\n')}`,
          )
          .join('\n')}`;
  throw new ApiError(409, 'Conflict', message, {
    causes: found.map((f) => ({
      reason: 'FieldManagerConflict',
      message: `conflict with "${f.manager}"`,
      field: f.path,
    })),
  });
}
