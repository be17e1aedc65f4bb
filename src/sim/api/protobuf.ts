import { readFileSync } from 'node:fs';
import { ApiError } from './status.js';
import { goDuration } from '../go-duration.js';

/**
 * kubectl's typed clients send protobuf bodies (`kubectl create configmap|secret|service|
 * deployment|job|namespace`): the "k8s\0" envelope around a runtime.Unknown whose raw bytes
 * are the object. The wire layout of each kind comes from the real Go types
 * (protobuf-schema.json, written by scripts/protobuf-schema). A body becomes exactly the
 * JSON the real API server would make of it: decoded into Go values (absent fields are
 * zero), then written as encoding/json writes them (omitempty, omitzero, embedded structs
 * flattened, map keys sorted). Kinds outside the schema are a clear 415.
 */

interface SchemaField {
  /** Protobuf field number. */
  n: number;
  /** JSON name; absent for embedded (inline) structs. */
  j?: string;
  /** `string`, `int32`, `bool`, `bytes`, `time`, `*T`, `[]T`, `map[K]V`, `core/v1.PodSpec`... */
  t: string;
  /** `omitempty` */
  o?: boolean;
  /** `omitzero` */
  z?: boolean;
  /** An embedded struct: its fields are written into the parent's. */
  i?: boolean;
}

interface Schema {
  source: string;
  kinds: Record<string, string>;
  types: Record<string, SchemaField[]>;
}

// From dist/sim/api/ and from src/sim/api/ alike, the file is in <root>/src/sim/api/.
const SCHEMA_FILE = new URL('../../../src/sim/api/protobuf-schema.json', import.meta.url);

let schema: Schema | undefined;

function loadSchema(): Schema {
  schema ??= JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as Schema;
  return schema;
}

// ---- the wire ------------------------------------------------------------------------

interface Wire {
  no: number;
  type: number;
  /** Wire type 0 (varint), 1 (fixed64) and 5 (fixed32): the raw unsigned value. */
  int?: bigint;
  /** Wire type 2: the bytes. */
  bytes?: Buffer;
}

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]); // "k8s\0"
const EMPTY = Buffer.alloc(0);

function bad(why: string): ApiError {
  return new ApiError(400, 'BadRequest', `the protobuf request body could not be read: ${why}`);
}

function readVarint(buf: Buffer, at: number): [bigint, number] {
  let value = 0n;
  let shift = 0n;
  let i = at;
  for (;;) {
    if (i >= buf.length) throw bad('truncated varint');
    const byte = buf[i] ?? 0;
    i += 1;
    value |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return [value, i];
    shift += 7n;
    if (shift > 63n) throw bad('varint too long');
  }
}

function readFields(buf: Buffer): Wire[] {
  const out: Wire[] = [];
  let at = 0;
  while (at < buf.length) {
    const [key, next] = readVarint(buf, at);
    at = next;
    const no = Number(key >> 3n);
    const type = Number(key & 7n);
    if (type === 0) {
      const [v, n] = readVarint(buf, at);
      out.push({ no, type, int: v });
      at = n;
    } else if (type === 2) {
      const [len, n] = readVarint(buf, at);
      const end = n + Number(len);
      if (end > buf.length) throw bad('truncated field');
      out.push({ no, type, bytes: buf.subarray(n, end) });
      at = end;
    } else if (type === 1 || type === 5) {
      const size = type === 1 ? 8 : 4;
      if (at + size > buf.length) throw bad('truncated field');
      const int = type === 1 ? buf.readBigUInt64LE(at) : BigInt(buf.readUInt32LE(at));
      out.push({ no, type, int });
      at += size;
    } else throw bad(`unknown wire type ${type}`);
  }
  return out;
}

function byNumber(buf: Buffer): Map<number, Wire[]> {
  const map = new Map<number, Wire[]>();
  for (const f of readFields(buf)) {
    const list = map.get(f.no);
    if (list) list.push(f);
    else map.set(f.no, [f]);
  }
  return map;
}

/** A message field given more than once is merged, as protobuf does: its parts concatenated. */
function messageBytes(occurrences: Wire[]): Buffer {
  return occurrences.length === 1
    ? (occurrences[0]?.bytes ?? EMPTY)
    : Buffer.concat(occurrences.map((w) => w.bytes ?? EMPTY));
}

// ---- Go values -----------------------------------------------------------------------

/** A decoded Go struct: its fields by schema entry, in declaration order. */
interface GoStruct {
  readonly kind: 'struct';
  readonly fields: [SchemaField, GoValue][];
}

interface GoTime {
  readonly kind: 'time';
  /** Seconds since the epoch; undefined for Go's zero time. */
  readonly seconds: number | undefined;
  readonly micros: number;
  /** MicroTime: written with microseconds. */
  readonly micro: boolean;
}

interface GoIntOrString {
  readonly kind: 'intstr';
  readonly isString: boolean;
  readonly intVal: number;
  readonly strVal: string;
}

type GoValue =
  | string
  | number
  | boolean
  | null // a nil pointer, slice, map or []byte
  | Buffer
  | GoValue[]
  | Map<string, GoValue>
  | GoStruct
  | GoTime
  | GoIntOrString
  | { readonly kind: 'quantity'; readonly text: string }
  | { readonly kind: 'duration'; readonly ns: bigint }
  | { readonly kind: 'raw'; readonly bytes: Buffer | null }
  /** A non-nil pointer: never empty, even to 0 or false. */
  | { readonly kind: 'pointer'; readonly to: GoValue };

const SCALARS = new Set([
  'string',
  'bool',
  'int32',
  'int64',
  'int',
  'uint32',
  'uint64',
  'uint16',
  'float64',
]);

function zeroScalar(t: string): GoValue {
  if (t === 'string') return '';
  if (t === 'bool') return false;
  return 0;
}

function scalar(t: string, w: Wire): GoValue {
  if (t === 'string') return (w.bytes ?? EMPTY).toString('utf8');
  if (t === 'float64') return w.type === 1 ? int64Bytes(w.int ?? 0n).readDoubleLE() : 0;
  const v = w.int ?? 0n;
  switch (t) {
    case 'bool':
      return v !== 0n;
    case 'int32':
      return Number(BigInt.asIntN(32, v));
    case 'int64':
    case 'int':
      return Number(BigInt.asIntN(64, v));
    default:
      return Number(v);
  }
}

function int64Bytes(v: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt.asUintN(64, v));
  return b;
}

/** The elements of a repeated scalar field: each occurrence, or a packed run. */
function repeatedScalars(t: string, occurrences: Wire[]): GoValue[] {
  const out: GoValue[] = [];
  for (const w of occurrences) {
    if (w.type !== 2 || t === 'string') {
      out.push(scalar(t, w));
      continue;
    }
    const buf = w.bytes ?? EMPTY;
    let at = 0;
    while (at < buf.length) {
      if (t === 'float64') {
        out.push(buf.readDoubleLE(at));
        at += 8;
      } else {
        const [v, n] = readVarint(buf, at);
        out.push(scalar(t, { no: w.no, type: 0, int: v }));
        at = n;
      }
    }
  }
  return out;
}

function decodeSpecial(t: string, buf: Buffer | undefined): GoValue | undefined {
  switch (t) {
    case 'time':
    case 'microtime': {
      const micro = t === 'microtime';
      if (buf === undefined || buf.length === 0)
        return { kind: 'time', seconds: undefined, micros: 0, micro };
      const f = byNumber(buf);
      const seconds = Number(BigInt.asIntN(64, f.get(1)?.at(-1)?.int ?? 0n));
      // Time keeps whole seconds only; MicroTime keeps microseconds.
      const nanos = micro ? Number(BigInt.asIntN(32, f.get(2)?.at(-1)?.int ?? 0n)) : 0;
      return { kind: 'time', seconds, micros: Math.trunc(nanos / 1000), micro };
    }
    case 'quantity': {
      // Go clients send the canonical form (Quantity.String()), which is what the server
      // writes back; other forms would be canonicalised there and are kept as sent here.
      const f = buf ? byNumber(buf) : new Map<number, Wire[]>();
      return { kind: 'quantity', text: f.get(1)?.at(-1)?.bytes?.toString('utf8') ?? '' };
    }
    case 'intstr': {
      const f = buf ? byNumber(buf) : new Map<number, Wire[]>();
      return {
        kind: 'intstr',
        isString: (f.get(1)?.at(-1)?.int ?? 0n) === 1n,
        intVal: Number(BigInt.asIntN(32, f.get(2)?.at(-1)?.int ?? 0n)),
        strVal: f.get(3)?.at(-1)?.bytes?.toString('utf8') ?? '',
      };
    }
    case 'duration': {
      const f = buf ? byNumber(buf) : new Map<number, Wire[]>();
      return { kind: 'duration', ns: BigInt.asIntN(64, f.get(1)?.at(-1)?.int ?? 0n) };
    }
    case 'rawext': {
      const f = buf ? byNumber(buf) : new Map<number, Wire[]>();
      const raw = f.get(1)?.at(-1)?.bytes;
      return { kind: 'raw', bytes: raw === undefined ? null : Buffer.from(raw) };
    }
    default:
      return undefined;
  }
}

/** The Go value of one field from its occurrences on the wire (none: the zero value). */
function decodeField(t: string, occurrences: Wire[]): GoValue {
  if (t.startsWith('[]')) {
    if (occurrences.length === 0) return null;
    const elem = t.slice(2);
    if (SCALARS.has(elem)) return repeatedScalars(elem, occurrences);
    return occurrences.map((w) => decodeField(elem, [w]));
  }
  if (t.startsWith('map[')) {
    if (occurrences.length === 0) return null;
    const close = t.indexOf(']');
    const keyType = t.slice(4, close);
    const valueType = t.slice(close + 1);
    const map = new Map<string, GoValue>();
    for (const entry of occurrences) {
      const kv = byNumber(entry.bytes ?? EMPTY);
      // Map keys are strings or integers (encoding/json writes integers in decimal).
      const k = decodeField(keyType, kv.get(1) ?? []);
      const key = typeof k === 'string' || typeof k === 'number' ? String(k) : '';
      const value = kv.get(2) ?? [];
      // A []byte map value left out on the wire is an empty one, not nil.
      map.set(
        key,
        valueType === 'bytes' && value.length === 0 ? EMPTY : decodeField(valueType, value),
      );
    }
    return map;
  }
  if (t.startsWith('*')) {
    if (occurrences.length === 0) return null;
    return { kind: 'pointer', to: decodeField(t.slice(1), occurrences) };
  }
  const last = occurrences.at(-1);
  if (t === 'bytes') return last === undefined ? null : Buffer.from(last.bytes ?? EMPTY);
  if (SCALARS.has(t)) return last === undefined ? zeroScalar(t) : scalar(t, last);
  const special = decodeSpecial(
    t,
    occurrences.length === 0 ? undefined : messageBytes(occurrences),
  );
  if (special !== undefined) return special;
  return decodeStruct(t, messageBytes(occurrences));
}

function decodeStruct(typeName: string, buf: Buffer): GoStruct {
  const fields = loadSchema().types[typeName];
  if (!fields) throw bad(`no layout for ${typeName}`);
  const wire = byNumber(buf);
  return { kind: 'struct', fields: fields.map((f) => [f, decodeField(f.t, wire.get(f.n) ?? [])]) };
}

// ---- encoding/json -------------------------------------------------------------------

type Tagged = Extract<GoValue, { readonly kind: string }>;

/** The values with a `kind` tag: structs, pointers and the special types. */
function tagged(v: GoValue): Tagged | undefined {
  if (v === null || typeof v !== 'object') return undefined;
  if (Buffer.isBuffer(v) || Array.isArray(v) || v instanceof Map) return undefined;
  return v;
}

/** encoding/json's "empty" for omitempty: false, 0, "", nil, and empty slices and maps. */
function isEmpty(v: GoValue): boolean {
  if (v === null || v === '' || v === 0 || v === false) return true;
  if (Buffer.isBuffer(v) || Array.isArray(v)) return v.length === 0;
  if (v instanceof Map) return v.size === 0;
  return false;
}

/** encoding/json's zero for omitzero: the Go zero value (Time by its IsZero method). */
function isZero(value: GoValue): boolean {
  if (value === null || value === '' || value === 0 || value === false) return true;
  const v = tagged(value);
  if (!v) return false;
  switch (v.kind) {
    case 'struct':
      return v.fields.every(([, x]) => isZero(x));
    case 'time':
      return v.seconds === undefined;
    case 'intstr':
      return !v.isString && v.intVal === 0 && v.strVal === '';
    case 'quantity':
      return v.text === '';
    case 'duration':
      return v.ns === 0n;
    case 'raw':
      return v.bytes === null;
    case 'pointer':
      return false;
  }
}

/** RFC 3339 in UTC, as metav1.Time (seconds) and MicroTime (microseconds) write it. */
function formatTime(t: GoTime): string | null {
  if (t.seconds === undefined) return null;
  const whole = new Date(t.seconds * 1000).toISOString().slice(0, 19);
  return t.micro ? `${whole}.${String(t.micros).padStart(6, '0')}Z` : `${whole}Z`;
}

function rawJson(bytes: Buffer | null): unknown {
  if (bytes === null) return null;
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch {
    throw bad('an embedded object is not JSON');
  }
}

function toJson(value: GoValue): unknown {
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (Array.isArray(value)) return value.map(toJson);
  if (value instanceof Map) {
    // encoding/json sorts map keys by their bytes.
    const keys = [...value.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    return Object.fromEntries(keys.map((k) => [k, toJson(value.get(k) ?? null)]));
  }
  const v = tagged(value);
  if (!v) return value;
  switch (v.kind) {
    case 'struct':
      return structJson(v);
    case 'time':
      return formatTime(v);
    case 'intstr':
      return v.isString ? v.strVal : v.intVal;
    case 'quantity':
      return v.text === '' ? '0' : v.text;
    case 'duration':
      return goDuration(v.ns);
    case 'raw':
      return rawJson(v.bytes);
    case 'pointer':
      return toJson(v.to);
  }
}

function structJson(s: GoStruct): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [field, value] of s.fields) {
    if (field.i) {
      // An embedded struct's fields are the parent's; a nil embedded pointer adds none.
      const v = tagged(value);
      const inner = v?.kind === 'pointer' ? tagged(v.to) : v;
      if (inner?.kind === 'struct') Object.assign(out, structJson(inner));
      continue;
    }
    if (field.o && isEmpty(value)) continue;
    if (field.z && isZero(value)) continue;
    out[field.j ?? ''] = toJson(value);
  }
  return out;
}

// ---- the envelope --------------------------------------------------------------------

export function isProtobuf(contentType: string): boolean {
  return /application\/vnd\.kubernetes\.protobuf/.test(contentType);
}

/** The JSON the real API server makes of a protobuf request body. */
export function decodeProtobuf(raw: Buffer): Record<string, unknown> {
  if (raw.length < 4 || !raw.subarray(0, 4).equals(MAGIC)) throw bad('missing the k8s envelope');
  const unknown = byNumber(raw.subarray(4));
  const typeMeta = byNumber(unknown.get(1)?.at(-1)?.bytes ?? EMPTY);
  const apiVersion = typeMeta.get(1)?.at(-1)?.bytes?.toString('utf8') ?? '';
  const kind = typeMeta.get(2)?.at(-1)?.bytes?.toString('utf8') ?? '';
  const encoding = unknown.get(3)?.at(-1)?.bytes?.toString('utf8') ?? '';
  if (encoding !== '') throw bad(`content encoding "${encoding}" is not supported`);
  const root = loadSchema().kinds[`${apiVersion}/${kind}`];
  if (!root)
    throw new ApiError(
      415,
      'UnsupportedMediaType',
      `the embedded cluster does not read protobuf request bodies for ${kind ? `${apiVersion} ${kind}` : 'this kind'}: send it as JSON or YAML (write a manifest and use kubectl apply -f)`,
    );
  const body = unknown.get(2)?.at(-1)?.bytes ?? EMPTY;
  // TypeMeta is embedded first in every kind: kind, then apiVersion.
  return { kind, apiVersion, ...structJson(decodeStruct(root, body)) };
}
