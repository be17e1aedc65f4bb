import { describe, expect, it } from 'vitest';
import { jsonPatch, type Json } from '../src/sim/api/patch.js';
import { ApiError } from '../src/sim/api/status.js';

const doc: Json = {
  metadata: { name: 'web', labels: { app: 'web' } },
  spec: { replicas: 2, ports: [{ port: 80 }, { port: 443 }] },
};

/** The Status a failed patch becomes: its code and reason. */
function refusal(ops: unknown): { code: number; reason: string } {
  try {
    jsonPatch(doc, ops);
  } catch (error) {
    if (error instanceof ApiError) return { code: error.code, reason: error.reason };
    throw error;
  }
  throw new Error('the patch was accepted');
}

describe('JSON patch (RFC 6902)', () => {
  it('applies every operation in order and leaves the input alone', () => {
    const before = structuredClone(doc);
    const out = jsonPatch(doc, [
      { op: 'replace', path: '/spec/replicas', value: 3 },
      { op: 'add', path: '/metadata/labels/tier', value: 'front' },
      { op: 'add', path: '/spec/ports/-', value: { port: 8080 } },
      { op: 'remove', path: '/spec/ports/0' },
      { op: 'copy', from: '/metadata/name', path: '/metadata/labels/name' },
      { op: 'move', from: '/metadata/labels/app', path: '/metadata/labels/component' },
      { op: 'test', path: '/spec/replicas', value: 3 },
      { op: 'add', path: '/metadata/labels/a~1b', value: 'escaped' },
    ]);
    expect(out).toEqual({
      metadata: {
        name: 'web',
        labels: { tier: 'front', name: 'web', component: 'web', 'a/b': 'escaped' },
      },
      spec: { replicas: 3, ports: [{ port: 443 }, { port: 8080 }] },
    });
    expect(doc).toEqual(before);
  });

  it('adds null for an add without a value, as the API server does', () => {
    expect(jsonPatch(doc, [{ op: 'add', path: '/spec/paused' }])).toMatchObject({
      spec: { paused: null },
    });
  });

  it('answers 400 for a body that is not a list of operations', () => {
    expect(refusal({ op: 'add', path: '/a', value: 1 })).toEqual({
      code: 400,
      reason: 'BadRequest',
    });
  });

  it("replaces a key an object lacks by adding it, as the API server's patch library does", () => {
    expect(jsonPatch(doc, [{ op: 'replace', path: '/spec/missing', value: 1 }])).toMatchObject({
      spec: { missing: 1 },
    });
    expect(doc).not.toHaveProperty('spec.missing');
  });

  it('answers 422 Invalid for operations that do not apply', () => {
    const invalid = { code: 422, reason: 'Invalid' };
    expect(refusal([{ op: 'replace', path: '/spec/missing/key', value: 1 }])).toEqual(invalid);
    expect(refusal([{ op: 'replace', path: '/spec/ports/5', value: 1 }])).toEqual(invalid);
    expect(refusal([{ op: 'remove', path: '/metadata/labels/missing' }])).toEqual(invalid);
    expect(refusal([{ op: 'remove', path: '/spec/ports/5' }])).toEqual(invalid);
    expect(refusal([{ op: 'add', path: '/no/such/parent', value: 1 }])).toEqual(invalid);
    expect(refusal([{ op: 'add', path: '/spec/ports/9', value: 1 }])).toEqual(invalid);
    expect(refusal([{ op: 'test', path: '/spec/replicas', value: 5 }])).toEqual(invalid);
    expect(refusal([{ op: 'frobnicate', path: '/spec' }])).toEqual(invalid);
    expect(refusal([{ op: 'add', path: 'spec', value: 1 }])).toEqual(invalid);
    expect(refusal([{ op: 'copy', from: '/no/such', path: '/spec/x' }])).toEqual(invalid);
  });
});
