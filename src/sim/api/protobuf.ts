import { ApiError } from './status.js';

/**
 * kubectl's typed clients send protobuf bodies (`kubectl create namespace`). The embedded
 * cluster reads the envelope and, of the objects, only a Namespace: name, generateName,
 * labels, annotations and spec.finalizers. Anything else is a clear 415.
 */

interface Field {
  no: number;
  wire: number;
  bytes?: Buffer;
  varint?: number;
}

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]); // "k8s\0"

function readVarint(buf: Buffer, at: number): [number, number] {
  let value = 0;
  let shift = 0;
  let i = at;
  for (;;) {
    if (i >= buf.length) throw bad('truncated varint');
    const byte = buf[i] ?? 0;
    i += 1;
    value += (byte & 0x7f) * 2 ** shift;
    if ((byte & 0x80) === 0) return [value, i];
    shift += 7;
    if (shift > 63) throw bad('varint too long');
  }
}

function bad(why: string): ApiError {
  return new ApiError(400, 'BadRequest', `the protobuf request body could not be read: ${why}`);
}

function fields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let at = 0;
  while (at < buf.length) {
    const [key, next] = readVarint(buf, at);
    at = next;
    const no = Math.floor(key / 8);
    const wire = key % 8;
    if (wire === 0) {
      const [v, n] = readVarint(buf, at);
      out.push({ no, wire, varint: v });
      at = n;
    } else if (wire === 2) {
      const [len, n] = readVarint(buf, at);
      if (n + len > buf.length) throw bad('truncated field');
      out.push({ no, wire, bytes: buf.subarray(n, n + len) });
      at = n + len;
    } else if (wire === 1) at += 8;
    else if (wire === 5) at += 4;
    else throw bad(`unknown wire type ${wire}`);
  }
  return out;
}

const text = (f: Field | undefined) => f?.bytes?.toString('utf8');

function stringMap(entries: Field[]): Record<string, string> {
  const map: Record<string, string> = {};
  for (const e of entries) {
    const kv = fields(e.bytes ?? Buffer.alloc(0));
    map[text(kv.find((f) => f.no === 1)) ?? ''] = text(kv.find((f) => f.no === 2)) ?? '';
  }
  return map;
}

function objectMeta(buf: Buffer): Record<string, unknown> {
  const f = fields(buf);
  const meta: Record<string, unknown> = {};
  const name = text(f.find((x) => x.no === 1));
  const generateName = text(f.find((x) => x.no === 2));
  const namespace = text(f.find((x) => x.no === 3));
  if (name) meta.name = name;
  if (generateName) meta.generateName = generateName;
  if (namespace) meta.namespace = namespace;
  const labels = f.filter((x) => x.no === 11);
  const annotations = f.filter((x) => x.no === 12);
  if (labels.length) meta.labels = stringMap(labels);
  if (annotations.length) meta.annotations = stringMap(annotations);
  return meta;
}

export function isProtobuf(contentType: string): boolean {
  return /application\/vnd\.kubernetes\.protobuf/.test(contentType);
}

/** The JSON form of a protobuf request body, for the kinds read here. */
export function decodeProtobuf(raw: Buffer): Record<string, unknown> {
  if (raw.length < 4 || !raw.subarray(0, 4).equals(MAGIC)) throw bad('missing the k8s envelope');
  const unknown = fields(raw.subarray(4));
  const typeMeta = fields(unknown.find((f) => f.no === 1)?.bytes ?? Buffer.alloc(0));
  const apiVersion = text(typeMeta.find((f) => f.no === 1)) ?? '';
  const kind = text(typeMeta.find((f) => f.no === 2)) ?? '';
  const body = unknown.find((f) => f.no === 2)?.bytes ?? Buffer.alloc(0);
  if (apiVersion !== 'v1' || kind !== 'Namespace') {
    throw new ApiError(
      415,
      'UnsupportedMediaType',
      `the embedded cluster does not support protobuf request bodies for ${kind || 'this kind'} (kubectl create deployment, job, configmap, service and the like send protobuf): write a manifest and use kubectl apply -f`,
    );
  }
  const top = fields(body);
  const out: Record<string, unknown> = {
    apiVersion,
    kind,
    metadata: objectMeta(top.find((f) => f.no === 1)?.bytes ?? Buffer.alloc(0)),
  };
  const spec = top.find((f) => f.no === 2)?.bytes;
  if (spec) {
    const finalizers = fields(spec)
      .filter((f) => f.no === 1)
      .map((f) => text(f) ?? '');
    if (finalizers.length) out.spec = { finalizers };
  }
  return out;
}
