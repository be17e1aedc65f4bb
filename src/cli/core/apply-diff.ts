/**
 * Does the cluster already hold what `up` would apply? Pure: plain objects in, the objects
 * to apply out, so a re-run of `up` can change nothing at all.
 */

type Json = unknown;

function isRecord(value: Json): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function sameScalar(want: Json, have: Json): boolean {
  if (want === have) return true;
  // Timestamps come back as Date from the typed client and as strings from kubectl.
  if (have instanceof Date && typeof want === 'string') return have.toISOString() === want;
  return false;
}

/**
 * Whether every field `want` sets has that value in `have`. The server adds defaults
 * (protocol, terminationMessagePath, uid...), so "contains" is the right question, not
 * "equals". Lists must have the same length, each element contained in its counterpart.
 */
export function contains(have: Json, want: Json): boolean {
  if (Array.isArray(want)) {
    return (
      Array.isArray(have) &&
      have.length === want.length &&
      want.every((item, i) => contains(have[i], item))
    );
  }
  if (isRecord(want)) {
    if (!isRecord(have)) return false;
    return Object.entries(want).every(([key, value]) => contains(have[key], value));
  }
  return sameScalar(want, have);
}

export interface ObjectKey {
  kind: string;
  name: string;
}

interface ObjectLike {
  kind?: string;
  metadata?: { name?: string };
}

function keyOf(object: ObjectLike): string {
  return `${object.kind ?? '?'}/${object.metadata?.name ?? '?'}`;
}

/** The rendered objects that are missing from the cluster or differ from the live ones. */
export function objectsToChange(
  rendered: readonly ObjectLike[],
  live: readonly ObjectLike[],
): ObjectKey[] {
  const byKey = new Map(live.map((o) => [keyOf(o), o]));
  return rendered
    .filter((want) => {
      const have = byKey.get(keyOf(want));
      return have === undefined || !contains(have, want);
    })
    .map((o) => ({ kind: o.kind ?? '?', name: o.metadata?.name ?? '?' }));
}
