import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeProtobuf } from '../src/sim/api/protobuf.js';
import { goDuration } from '../src/sim/go-duration.js';
import { ApiServer } from '../src/sim/api/server.js';
import { ApiError } from '../src/sim/api/status.js';
import { NAMESPACES, PODS } from '../src/sim/controllers/common.js';
import { Store } from '../src/sim/store.js';

/**
 * The protobuf decoder against the real Go types. test/fixtures/protobuf holds bodies
 * kubectl 1.32 sent to the embedded cluster (`kubectl create ...`) and bodies the real types
 * encode (sample-*.bin, scripts/protobuf-schema/sample); each `.json` beside them is what
 * encoding/json writes for the decoded Go object (scripts/protobuf-schema/decode), byte for
 * byte: field order, omitted zero values and all.
 */

const FIXTURES = new URL('./fixtures/protobuf/', import.meta.url);
const bodies = readdirSync(FIXTURES).filter((f) => f.endsWith('.bin'));

// ---- building bodies by hand -------------------------------------------------------------

function varint(n: bigint | number): Buffer {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  do {
    const byte = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v > 0n ? byte | 0x80 : byte);
  } while (v > 0n);
  return Buffer.from(out);
}

const bytes = (no: number, body: Buffer | string) => {
  const b = typeof body === 'string' ? Buffer.from(body) : body;
  return Buffer.concat([varint(no * 8 + 2), varint(b.length), b]);
};
const int = (no: number, v: bigint | number) => Buffer.concat([varint(no * 8), varint(v)]);
const msg = (...parts: Buffer[]) => Buffer.concat(parts);

/** The k8s envelope: magic, then runtime.Unknown{typeMeta, raw}. */
function envelope(apiVersion: string, kind: string, raw: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from('k8s\0', 'latin1'),
    bytes(1, msg(bytes(1, apiVersion), bytes(2, kind))),
    bytes(2, raw),
  ]);
}

const meta = (name: string) => bytes(1, bytes(1, name));

function refusal(body: Buffer): ApiError {
  try {
    decodeProtobuf(body);
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error('the body was accepted');
}

describe('protobuf bodies decode to what encoding/json writes for the real Go types', () => {
  it('has fixtures from kubectl create and from the real types', () => {
    expect(bodies).toEqual(
      expect.arrayContaining(['configmap.bin', 'secret-generic.bin', 'deployment.bin', 'job.bin']),
    );
    expect(bodies.filter((f) => f.startsWith('sample-')).length).toBeGreaterThanOrEqual(4);
  });

  it.each(bodies)('%s', (file) => {
    const want = readFileSync(new URL(file.replace(/\.bin$/, '.json'), FIXTURES), 'utf8');
    const got = decodeProtobuf(readFileSync(new URL(file, FIXTURES)));
    expect(`${JSON.stringify(got, null, 2)}\n`).toBe(want);
  });
});

describe('the protobuf decoder, on bodies built by hand', () => {
  it('writes kind and apiVersion from the envelope, first, as TypeMeta is embedded first', () => {
    const cm = decodeProtobuf(envelope('v1', 'ConfigMap', meta('c')));
    expect(Object.keys(cm)).toEqual(['kind', 'apiVersion', 'metadata']);
    expect(cm).toEqual({ kind: 'ConfigMap', apiVersion: 'v1', metadata: { name: 'c' } });
  });

  it('keeps a pointer to zero (replicas: 0) and leaves an absent pointer out', () => {
    const spec = (...parts: Buffer[]) =>
      decodeProtobuf(envelope('apps/v1', 'Deployment', msg(meta('d'), bytes(2, msg(...parts)))));
    expect((spec(int(1, 0)).spec as Record<string, unknown>).replicas).toBe(0);
    expect(spec()).toEqual({
      kind: 'Deployment',
      apiVersion: 'apps/v1',
      metadata: { name: 'd' },
      // A nil pointer without omitempty is null; a struct stays, as {} or with its fields
      // that have no omitempty (a nil slice is null).
      spec: {
        selector: null,
        template: { metadata: {}, spec: { containers: null } },
        strategy: {},
      },
      status: {},
    });
    expect(spec()).not.toHaveProperty('spec.replicas');
  });

  it('reads negative numbers (ten-byte varints) as signed', () => {
    // Service.spec (2).ports (1): port (3) is int32.
    const svc = decodeProtobuf(
      envelope('v1', 'Service', msg(meta('s'), bytes(2, bytes(1, msg(int(3, -1)))))),
    );
    expect(svc.spec).toMatchObject({ ports: [{ port: -1, targetPort: 0 }] });
  });

  it('reads repeated numbers packed or one by one alike', () => {
    // Pod.spec (2).securityContext (14).supplementalGroups (4) is []int64.
    const pod = (groups: Buffer) =>
      decodeProtobuf(envelope('v1', 'Pod', msg(meta('p'), bytes(2, bytes(14, groups)))));
    const packed = pod(bytes(4, msg(varint(1), varint(2), varint(3_000_000_000))));
    const single = pod(msg(int(4, 1), int(4, 2), int(4, 3_000_000_000)));
    expect(packed.spec).toMatchObject({ securityContext: { supplementalGroups: [1, 2, 3e9] } });
    expect(single).toEqual(packed);
  });

  it('merges a message given twice and skips field numbers it does not know', () => {
    // ObjectMeta: name (1), labels (11) as map entries {key 1, value 2}.
    const cm = decodeProtobuf(
      envelope(
        'v1',
        'ConfigMap',
        msg(
          bytes(1, bytes(1, 'first')),
          int(99, 7),
          bytes(1, bytes(11, msg(bytes(1, 'b'), bytes(2, '2')))),
          bytes(1, bytes(11, msg(bytes(1, 'a'), bytes(2, '1')))),
        ),
      ),
    );
    expect(cm.metadata).toEqual({ name: 'first', labels: { a: '1', b: '2' } });
    // encoding/json sorts map keys.
    expect(Object.keys(cm.metadata as object)).toEqual(['name', 'labels']);
    expect(Object.keys((cm.metadata as { labels: object }).labels)).toEqual(['a', 'b']);
  });

  it('writes []byte as base64, and a map value left off the wire as empty', () => {
    // Secret.data (2) is map<string, bytes>; stringData (4) map<string, string>; type (3).
    const secret = decodeProtobuf(
      envelope(
        'v1',
        'Secret',
        msg(
          meta('s'),
          bytes(2, msg(bytes(1, 'bin'), bytes(2, Buffer.from([0, 255, 10])))),
          bytes(2, bytes(1, 'empty')),
          bytes(4, msg(bytes(1, 'plain'), bytes(2, 'text'))),
        ),
      ),
    );
    expect(secret).toEqual({
      kind: 'Secret',
      apiVersion: 'v1',
      metadata: { name: 's' },
      data: { bin: 'AP8K', empty: '' },
      stringData: { plain: 'text' },
    });
  });

  it('writes a set time in RFC 3339 (seconds only) and leaves a zero creationTimestamp out', () => {
    const ns = (...metaParts: Buffer[]) =>
      decodeProtobuf(envelope('v1', 'Namespace', bytes(1, msg(...metaParts))));
    // creationTimestamp (8) is a Timestamp {seconds 1, nanos 2}; Time drops the nanos.
    const set = ns(bytes(1, 'n'), bytes(8, msg(int(1, 1_767_323_045), int(2, 600_000_000))));
    expect(set.metadata).toEqual({ name: 'n', creationTimestamp: '2026-01-02T03:04:05Z' });
    // omitzero in k8s.io/apimachinery v0.34: no more `creationTimestamp: null`.
    expect(ns(bytes(1, 'n'), bytes(8, Buffer.alloc(0))).metadata).toEqual({ name: 'n' });
  });

  it('writes IntOrString as a number or a string by its type', () => {
    // PodDisruptionBudget.spec (2): minAvailable (1), maxUnavailable (3), IntOrString
    // {type 1, intVal 2, strVal 3}.
    const pdb = decodeProtobuf(
      envelope(
        'policy/v1',
        'PodDisruptionBudget',
        msg(
          meta('p'),
          bytes(2, msg(bytes(1, msg(int(1, 1), bytes(3, '50%'))), bytes(3, int(2, 0)))),
        ),
      ),
    );
    expect(pdb.spec).toEqual({ minAvailable: '50%', maxUnavailable: 0 });
  });

  it('refuses a kind it has no layout for with a 415 that says what to do', () => {
    const e = refusal(envelope('networking.k8s.io/v1', 'Ingress', Buffer.alloc(0)));
    expect(e.code).toBe(415);
    expect(e.message).toMatch(/networking.k8s.io\/v1 Ingress/);
    expect(e.message).toMatch(/kubectl apply -f/);
  });

  it('refuses bodies it cannot read with a 400', () => {
    expect(refusal(Buffer.from('{"kind":"Pod"}')).code).toBe(400);
    expect(refusal(Buffer.from('k8s\0', 'latin1')).code).toBe(415);
    const truncated = envelope('v1', 'ConfigMap', meta('c')).subarray(0, -2);
    expect(refusal(truncated).message).toMatch(/could not be read: truncated/);
    const gzipped = Buffer.concat([envelope('v1', 'ConfigMap', meta('c')), bytes(3, 'gzip')]);
    expect(refusal(gzipped).message).toMatch(/content encoding "gzip"/);
  });
});

describe('protobuf bodies through the API server', () => {
  it("reads a drain's Eviction: its deleteOptions (dryRun) keep the pod", async () => {
    const store = new Store();
    store.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns' } });
    store.create(PODS, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', namespace: 'ns' },
      spec: { nodeName: 'n', containers: [{ name: 'c', image: 'multi-replica-app:dev' }] },
      status: { phase: 'Running' },
    });
    const api = new ApiServer({ store, token: 't' });
    const port = await api.listen(0);
    try {
      // Eviction: metadata (1), deleteOptions (2) with dryRun (5) ["All"].
      const body = envelope(
        'policy/v1',
        'Eviction',
        msg(bytes(1, msg(bytes(1, 'p'), bytes(3, 'ns'))), bytes(2, bytes(5, 'All'))),
      );
      const res = await fetch(`http://127.0.0.1:${port}/api/v1/namespaces/ns/pods/p/eviction`, {
        method: 'POST',
        headers: {
          Authorization: 'Bearer t',
          'Content-Type': 'application/vnd.kubernetes.protobuf',
        },
        body,
      });
      expect(res.status).toBe(201);
      expect(store.get(PODS, 'ns', 'p')?.metadata.deletionTimestamp).toBeUndefined();
    } finally {
      await api.close();
    }
  });
});

describe('goDuration', () => {
  it('writes time.Duration as Go does', () => {
    expect(goDuration(0n)).toBe('0s');
    expect(goDuration(1_500_000_000n)).toBe('1.5s');
    expect(goDuration(3_600_000_000_000n)).toBe('1h0m0s');
    expect(goDuration(5_400_000_000_000n)).toBe('1h30m0s');
    expect(goDuration(61_000_000_000n)).toBe('1m1s');
    expect(goDuration(500_000_000n)).toBe('500ms');
    expect(goDuration(1_500n)).toBe('1.5µs');
    expect(goDuration(7n)).toBe('7ns');
    expect(goDuration(-2_000_000_000n)).toBe('-2s');
  });
});
