/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-explicit-any --
   the assertions read JSON answers of many shapes */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../src/sim/store.js';
import { ApiServer } from '../src/sim/api/server.js';
import { ensureSystemNamespaces } from '../src/sim/defaults.js';
import { base64ErrorAt } from '../src/sim/secrets.js';

/** Secrets on the embedded cluster, as the real API server keeps and shows them. */

const TOKEN = 'secrets-token';
const NS = 'p1';
const URL_BASE = `/api/v1/namespaces/${NS}/secrets`;
let api: ApiServer;
let base: string;

beforeAll(async () => {
  const store = new Store();
  ensureSystemNamespaces(store);
  api = new ApiServer({ store, token: TOKEN });
  base = `http://127.0.0.1:${await api.listen(0)}`;
  const ns = await call('POST', '/api/v1/namespaces', {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: NS },
  });
  expect(ns.status).toBe(201);
});

afterAll(async () => {
  await api.close();
});

async function call(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const raw = Buffer.isBuffer(body);
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${TOKEN}`,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : raw ? body : JSON.stringify(body),
  });
  const text = await res.text();
  const parsed: any = text.startsWith('{') ? JSON.parse(text) : text;
  return { status: res.status, body: parsed };
}

const secret = (name: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name },
  ...extra,
});

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('Secrets on the embedded cluster', () => {
  it('are in discovery as the real cluster lists them', async () => {
    const list = await call('GET', '/api/v1');
    const entry = list.body.resources.find((r: any) => r.name === 'secrets');
    expect(entry).toMatchObject({
      name: 'secrets',
      singularName: 'secret',
      namespaced: true,
      kind: 'Secret',
      verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
    });
    expect(entry).not.toHaveProperty('shortNames');
    expect(entry).not.toHaveProperty('categories');
  });

  it('fold stringData into base64 data, keep no stringData, and default the type to Opaque', async () => {
    const created = await call(
      'POST',
      URL_BASE,
      secret('folded', { data: { a: b64('from data'), b: b64('old') }, stringData: { b: 'new' } }),
    );
    expect(created.status).toBe(201);
    expect(created.body.data).toEqual({ a: b64('from data'), b: b64('new') });
    expect(created.body).not.toHaveProperty('stringData');
    expect(created.body.type).toBe('Opaque');
    const got = await call('GET', `${URL_BASE}/folded`);
    expect(got.body.data).toEqual(created.body.data);
    expect(got.body).not.toHaveProperty('stringData');
  });

  it('fold stringData in on a patch too', async () => {
    await call('POST', URL_BASE, secret('patched', { stringData: { k: 'v1' } }));
    const patched = await call(
      'PATCH',
      `${URL_BASE}/patched`,
      { stringData: { k: 'v2', extra: 'x' } },
      { 'Content-Type': 'application/merge-patch+json' },
    );
    expect(patched.status).toBe(200);
    expect(patched.body.data).toEqual({ k: b64('v2'), extra: b64('x') });
    expect(patched.body).not.toHaveProperty('stringData');
  });

  it('are created from the protobuf body kubectl create secret sends', async () => {
    const body = readFileSync(new URL('./fixtures/protobuf/secret-generic.bin', import.meta.url));
    const created = await call('POST', URL_BASE, body, {
      'Content-Type': 'application/vnd.kubernetes.protobuf',
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      metadata: { name: 's1', namespace: NS },
      type: 'Opaque',
      data: { a: 'Yg==', empty: '' },
    });
  });

  it('show in a table with Name, Type, Data and Age, as kubectl get secrets prints', async () => {
    await call('POST', URL_BASE, secret('shown', { stringData: { x: '1', y: '2' } }));
    const table = await call('GET', `${URL_BASE}/shown`, undefined, {
      Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io',
    });
    expect(table.body.columnDefinitions.map((c: any) => c.name)).toEqual([
      'Name',
      'Type',
      'Data',
      'Age',
    ]);
    expect(table.body.rows[0].cells.slice(0, 3)).toEqual(['shown', 'Opaque', 2]);
  });

  it('are listed by type with a field selector', async () => {
    await call(
      'POST',
      URL_BASE,
      secret('auth', { type: 'kubernetes.io/basic-auth', stringData: { username: 'u' } }),
    );
    const list = await call('GET', `${URL_BASE}?fieldSelector=type%3Dkubernetes.io%2Fbasic-auth`);
    expect(list.body.items.map((s: any) => s.metadata.name)).toEqual(['auth']);
    const bad = await call('GET', `${URL_BASE}?fieldSelector=spec.x%3D1`);
    expect(bad.status).toBe(400);
  });

  it('refuse data that is not base64, as the decoder does', async () => {
    const r = await call('POST', URL_BASE, secret('bad64', { data: { k: 'abc' } }));
    expect(r.status).toBe(400);
    expect(r.body.message).toBe(
      'Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 0',
    );
  });

  it('refuse bad keys and the missing keys of well-known types (422)', async () => {
    const tls = await call('POST', URL_BASE, secret('tls', { type: 'kubernetes.io/tls' }));
    expect(tls.status).toBe(422);
    expect(tls.body.details.causes).toEqual([
      { reason: 'FieldValueRequired', field: 'data[tls.crt]', message: 'Required value' },
      { reason: 'FieldValueRequired', field: 'data[tls.key]', message: 'Required value' },
    ]);
    const key = await call('POST', URL_BASE, secret('key', { stringData: { 'a b': 'x' } }));
    expect(key.status).toBe(422);
    expect(key.body.details.causes[0].field).toBe('data[a b]');
    expect(key.body.details.causes[0].message).toMatch(/^Invalid value: "a b": a valid config key/);
  });

  it('keep their type, and the data of an immutable one, on update', async () => {
    const first = await call(
      'POST',
      URL_BASE,
      secret('fixed', { immutable: true, stringData: { k: 'v' } }),
    );
    expect(first.status).toBe(201);
    const retype = await call('PUT', `${URL_BASE}/fixed`, {
      ...first.body,
      type: 'example.com/other',
    });
    expect(retype.status).toBe(422);
    expect(retype.body.message).toContain(
      'type: Invalid value: "example.com/other": field is immutable',
    );
    const change = await call('PUT', `${URL_BASE}/fixed`, {
      ...first.body,
      data: { k: b64('changed') },
    });
    expect(change.status).toBe(422);
    expect(change.body.message).toContain(
      'data: Forbidden: field is immutable when `immutable` is set',
    );
    const same = await call('PUT', `${URL_BASE}/fixed`, {
      ...first.body,
      metadata: { ...first.body.metadata, labels: { ok: 'yes' } },
    });
    expect(same.status).toBe(200);
  });

  it('are deleted', async () => {
    await call('POST', URL_BASE, secret('gone'));
    expect((await call('DELETE', `${URL_BASE}/gone`)).status).toBe(200);
    expect((await call('GET', `${URL_BASE}/gone`)).status).toBe(404);
  });
});

describe('base64ErrorAt', () => {
  it("stops where Go's base64 decoder stops", () => {
    expect(base64ErrorAt('')).toBeUndefined();
    expect(base64ErrorAt('aGk=')).toBeUndefined();
    expect(base64ErrorAt('aGVs\nbG8=')).toBeUndefined();
    expect(base64ErrorAt('abc')).toBe(0);
    expect(base64ErrorAt('abcdabc')).toBe(4);
    expect(base64ErrorAt('ab!d')).toBe(2);
    expect(base64ErrorAt('a===')).toBe(1);
    expect(base64ErrorAt('aGk=aGk=')).toBe(4);
    expect(base64ErrorAt('ab=c')).toBe(2);
    expect(base64ErrorAt('ab=')).toBe(3);
    expect(base64ErrorAt('abc=\nx')).toBe(5);
  });
});
