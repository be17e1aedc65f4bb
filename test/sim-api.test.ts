/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-call --
   the assertions read JSON answers of many shapes; a typed view per answer would only restate them */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../src/sim/store.js';
import { ApiServer } from '../src/sim/api/server.js';
import { ensureSystemNamespaces } from '../src/sim/defaults.js';
import { admitPod } from '../src/sim/admission.js';

/** The API server in-process over plain HTTP, with a store and no runtime behind it. */

const TOKEN = 'test-token';
let api: ApiServer;
let base: string;

beforeAll(async () => {
  const store = new Store();
  ensureSystemNamespaces(store);
  api = new ApiServer({ store, token: TOKEN, admitPod });
  const port = await api.listen(0);
  base = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  await api.close();
});

interface Reply {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON of many shapes
  contentType: string;
  warning: string | null;
}

async function call(
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/json',
  headers: Record<string, string> = {},
): Promise<Reply> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${TOKEN}`,
      ...(body === undefined ? {} : { 'Content-Type': contentType }),
      ...headers,
    },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // text/plain answers (healthz)
  }
  return {
    status: res.status,
    body: parsed,
    contentType: res.headers.get('content-type') ?? '',
    warning: res.headers.get('warning'),
  };
}

const ns = (name: string, labels: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, labels },
});

const deployment = (name: string, replicas = 2) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, labels: { app: name } },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: {
        containers: [
          {
            name: 'web',
            image: 'multi-replica-app:dev',
            env: [
              { name: 'A', value: '1' },
              { name: 'B', value: '2' },
            ],
          },
        ],
      },
    },
  },
});

describe('embedded cluster API (in-process)', () => {
  it('answers 401 Unauthorized without the token or with a wrong one', async () => {
    const none = await fetch(`${base}/api/v1/namespaces`);
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
    const wrong = await fetch(`${base}/version`, { headers: { Authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
  });

  it('serves version, discovery and the OpenAPI v3 index kubectl apply needs', async () => {
    expect((await call('GET', '/version')).body.gitVersion).toMatch(/^v1\.34\.\d+-sim$/);
    expect((await call('GET', '/readyz')).body).toBe('ok');
    const groups = await call('GET', '/apis');
    expect(groups.body.groups.map((g: { name: string }) => g.name).sort()).toEqual([
      'apps',
      'batch',
      'discovery.k8s.io',
      'events.k8s.io',
      'policy',
    ]);
    const core = await call('GET', '/api/v1');
    const names = core.body.resources.map((r: { name: string }) => r.name);
    expect(names).toEqual(
      expect.arrayContaining(['pods', 'pods/log', 'pods/portforward', 'services']),
    );
    expect(core.body.resources.find((r: { name: string }) => r.name === 'pods')).toMatchObject({
      namespaced: true,
      kind: 'Pod',
      singularName: 'pod',
      shortNames: ['po'],
    });
    const apps = await call('GET', '/apis/apps/v1');
    expect(
      apps.body.resources.find((r: { name: string }) => r.name === 'deployments/scale'),
    ).toMatchObject({
      kind: 'Scale',
      group: 'autoscaling',
    });
    const index = await call('GET', '/openapi/v3');
    const url = index.body.paths['apis/apps/v1'].serverRelativeURL as string;
    expect(url).toMatch(/^\/openapi\/v3\/apis\/apps\/v1\?hash=/);
    const doc = await call('GET', url);
    const item = doc.body.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}'];
    expect(item.patch.parameters.map((p: { name: string }) => p.name)).toContain('fieldValidation');
    expect(
      doc.body.components.schemas['io.k8s.api.apps.v1.Deployment'][
        'x-kubernetes-group-version-kind'
      ],
    ).toEqual([{ group: 'apps', version: 'v1', kind: 'Deployment' }]);
  });

  it('creates with defaults, and shapes NotFound, AlreadyExists and Invalid like the real API', async () => {
    expect((await call('POST', '/api/v1/namespaces', ns('alpha'))).status).toBe(201);
    const created = await call(
      'POST',
      '/apis/apps/v1/namespaces/alpha/deployments',
      deployment('web'),
    );
    expect(created.status).toBe(201);
    expect(created.body.metadata).toMatchObject({ namespace: 'alpha', generation: 1 });
    expect(created.body.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.body.spec.strategy.type).toBe('RollingUpdate');
    expect(created.body.spec.template.spec.containers[0].imagePullPolicy).toBe('IfNotPresent');

    const again = await call(
      'POST',
      '/apis/apps/v1/namespaces/alpha/deployments',
      deployment('web'),
    );
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({
      reason: 'AlreadyExists',
      message: 'deployments.apps "web" already exists',
    });

    const missing = await call('GET', '/api/v1/namespaces/alpha/pods/x');
    expect(missing.body).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'pods "x" not found',
      reason: 'NotFound',
      details: { name: 'x', kind: 'pods' },
      code: 404,
    });

    const bad = await call(
      'POST',
      '/apis/apps/v1/namespaces/alpha/deployments',
      deployment('Bad_Name'),
    );
    expect(bad.status).toBe(422);
    expect(bad.body.reason).toBe('Invalid');
    expect(bad.body.message).toMatch(
      /^Deployment\.apps "Bad_Name" is invalid: metadata\.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain/,
    );
    expect(bad.body.details.causes[0]).toMatchObject({
      reason: 'FieldValueInvalid',
      field: 'metadata.name',
    });

    const noNs = await call(
      'POST',
      '/apis/apps/v1/namespaces/nowhere/deployments',
      deployment('web'),
    );
    expect(noNs.status).toBe(404);
    expect(noNs.body.message).toBe('namespaces "nowhere" not found');
  });

  it("allocates a clusterIP in the cluster's Service range for a Service", async () => {
    const svc = await call('POST', '/api/v1/namespaces/alpha/services', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web' },
      spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 'http' }] },
    });
    expect(svc.status).toBe(201);
    // No runtime claimed a block here, so the default octet; Services from the third octet 100 on.
    expect(svc.body.spec.clusterIP).toMatch(/^127\.10\.(1\d\d|2\d\d)\.\d+$/);
    expect(svc.body.spec.ports[0]).toMatchObject({ protocol: 'TCP', targetPort: 'http' });
  });

  it('lists with label selectors and limit, and serves Tables for kubectl get', async () => {
    await call('POST', '/apis/apps/v1/namespaces/alpha/deployments', deployment('other'));
    const selected = await call(
      'GET',
      '/apis/apps/v1/namespaces/alpha/deployments?labelSelector=app%3Dother',
    );
    expect(selected.body.kind).toBe('DeploymentList');
    expect(selected.body.items.map((d: { metadata: { name: string } }) => d.metadata.name)).toEqual(
      ['other'],
    );
    const page = await call('GET', '/apis/apps/v1/namespaces/alpha/deployments?limit=1');
    expect(page.body.items).toHaveLength(1);
    expect(page.body.metadata.continue).toBeTruthy();
    const next = await call(
      'GET',
      `/apis/apps/v1/namespaces/alpha/deployments?limit=1&continue=${page.body.metadata.continue}`,
    );
    expect(next.body.items[0].metadata.name).not.toBe(page.body.items[0].metadata.name);
    const bad = await call('GET', '/apis/apps/v1/deployments?labelSelector=%3D%3D%3D');
    expect(bad.status).toBe(400);
    const table = await call(
      'GET',
      '/apis/apps/v1/namespaces/alpha/deployments',
      undefined,
      'application/json',
      {
        Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json',
      },
    );
    expect(table.body.kind).toBe('Table');
    expect(table.body.columnDefinitions.map((c: { name: string }) => c.name).slice(0, 2)).toEqual([
      'Name',
      'Ready',
    ]);
    expect(table.body.rows[0].cells[1]).toBe('0/2');
  });

  it('updates with a resourceVersion precondition (409 on a stale one)', async () => {
    const current = (await call('GET', '/apis/apps/v1/namespaces/alpha/deployments/web')).body;
    const stale = structuredClone(current);
    current.spec.replicas = 4;
    const ok = await call('PUT', '/apis/apps/v1/namespaces/alpha/deployments/web', current);
    expect(ok.status).toBe(200);
    expect(ok.body.metadata.generation).toBe(2);
    stale.spec.replicas = 1;
    const conflict = await call('PUT', '/apis/apps/v1/namespaces/alpha/deployments/web', stale);
    expect(conflict.status).toBe(409);
    expect(conflict.body.reason).toBe('Conflict');
  });

  it('patches: merge, strategic (containers and env by name) and JSON patch', async () => {
    const path = '/apis/apps/v1/namespaces/alpha/deployments/web';
    const merge = await call(
      'PATCH',
      path,
      { metadata: { labels: { tier: 'front' } } },
      'application/merge-patch+json',
    );
    expect(merge.body.metadata.labels).toMatchObject({ app: 'web', tier: 'front' });
    const strategic = await call(
      'PATCH',
      path,
      {
        spec: {
          template: { spec: { containers: [{ name: 'web', env: [{ name: 'B', value: '3' }] }] } },
        },
      },
      'application/strategic-merge-patch+json',
    );
    const c = strategic.body.spec.template.spec.containers;
    expect(c).toHaveLength(1);
    expect(c[0].image).toBe('multi-replica-app:dev');
    expect(c[0].env).toEqual([
      { name: 'A', value: '1' },
      { name: 'B', value: '3' },
    ]);
    const json = await call(
      'PATCH',
      path,
      [{ op: 'replace', path: '/spec/replicas', value: 3 }],
      'application/json-patch+json',
    );
    expect(json.body.spec.replicas).toBe(3);
    const unknownType = await call('PATCH', path, {}, 'text/plain');
    expect(unknownType.status).toBe(415);
    expect(unknownType.body.message).toMatch(/embedded cluster does not support/);
  });

  it('server-side apply creates, merges, prunes fields the manager dropped, and needs fieldManager', async () => {
    const path = '/apis/apps/v1/namespaces/alpha/deployments/applied';
    const body = deployment('applied');
    body.metadata.labels = { app: 'applied', extra: 'yes' } as never;
    const created = await call(
      'PATCH',
      `${path}?fieldManager=kubectl&fieldValidation=Strict`,
      body,
      'application/apply-patch+yaml',
    );
    expect(created.status).toBe(201);
    expect(created.body.metadata.managedFields[0]).toMatchObject({
      manager: 'kubectl',
      operation: 'Apply',
      fieldsType: 'FieldsV1',
    });
    await call(
      'PATCH',
      path,
      { metadata: { labels: { other: 'kept' } } },
      'application/merge-patch+json',
    );
    const again = deployment('applied');
    const reapplied = await call(
      'PATCH',
      `${path}?fieldManager=kubectl`,
      again,
      'application/apply-patch+yaml',
    );
    expect(reapplied.status).toBe(200);
    expect(reapplied.body.metadata.labels).toEqual({ app: 'applied', other: 'kept' });
    const yaml = `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: applied\nspec:\n  replicas: 7\n`;
    // Another manager setting a field kubectl applied conflicts, unless forced.
    const conflicting = await call(
      'PATCH',
      `${path}?fieldManager=other`,
      yaml,
      'application/apply-patch+yaml',
    );
    expect(conflicting.status).toBe(409);
    expect(conflicting.body.message).toBe(
      'Apply failed with 1 conflict: conflict with "kubectl": .spec.replicas',
    );
    const fromYaml = await call(
      'PATCH',
      `${path}?fieldManager=other&force=true`,
      yaml,
      'application/apply-patch+yaml',
    );
    expect(fromYaml.body.spec.replicas).toBe(7);
    const noManager = await call('PATCH', path, again, 'application/apply-patch+yaml');
    expect(noManager.status).toBe(422);
    expect(noManager.body.message).toMatch(/fieldManager: Required value/);
  });

  it('scales through the scale subresource', async () => {
    const path = '/apis/apps/v1/namespaces/alpha/deployments/web/scale';
    const scale = await call('GET', path);
    expect(scale.body).toMatchObject({
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      status: { selector: 'app=web' },
    });
    const patched = await call(
      'PATCH',
      path,
      { spec: { replicas: 6 } },
      'application/merge-patch+json',
    );
    expect(patched.body.spec.replicas).toBe(6);
    expect(
      (await call('GET', '/apis/apps/v1/namespaces/alpha/deployments/web')).body.spec.replicas,
    ).toBe(6);
  });

  it('streams watch events as JSON lines and honours timeoutSeconds', async () => {
    const res = await fetch(
      `${base}/api/v1/namespaces/alpha/services?watch=true&timeoutSeconds=2`,
      {
        headers: { Authorization: `Bearer ${TOKEN}` },
      },
    );
    expect(res.status).toBe(200);
    await call(
      'PATCH',
      '/api/v1/namespaces/alpha/services/web',
      { metadata: { labels: { x: 'y' } } },
      'application/merge-patch+json',
    );
    const text = await res.text();
    const events = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; object: { metadata: { name: string } } });
    expect(events.map((e) => e.type)).toEqual(['ADDED', 'MODIFIED']);
    expect(events[1]?.object.metadata.name).toBe('web');
  });

  it('deletes pods gracefully, orphans Job pods by default, and terminates namespaces', async () => {
    await call('POST', '/api/v1/namespaces', ns('beta'));
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p1' },
      spec: {
        nodeName: 'replica-demo-worker',
        containers: [{ name: 'c', image: 'multi-replica-app:dev' }],
      },
    };
    expect((await call('POST', '/api/v1/namespaces/beta/pods', pod)).status).toBe(201);
    const deleted = await call('DELETE', '/api/v1/namespaces/beta/pods/p1', {
      gracePeriodSeconds: 5,
    });
    expect(deleted.status).toBe(200);
    expect(deleted.body.kind).toBe('Pod');
    expect(deleted.body.metadata.deletionGracePeriodSeconds).toBe(5);
    expect(deleted.body.metadata.deletionTimestamp).toBeTruthy();

    const job = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'j' },
      spec: {
        template: {
          spec: {
            restartPolicy: 'Never',
            containers: [{ name: 'c', image: 'curlimages/curl:8.11.1' }],
          },
        },
      },
    };
    const createdJob = (await call('POST', '/apis/batch/v1/namespaces/beta/jobs', job)).body;
    expect(createdJob.spec.selector.matchLabels['batch.kubernetes.io/controller-uid']).toBe(
      createdJob.metadata.uid,
    );
    const owned = {
      ...pod,
      metadata: {
        name: 'jp',
        ownerReferences: [
          {
            apiVersion: 'batch/v1',
            kind: 'Job',
            name: 'j',
            uid: createdJob.metadata.uid,
            controller: true,
          },
        ],
      },
    };
    await call('POST', '/api/v1/namespaces/beta/pods', owned);
    const jobGone = await call('DELETE', '/apis/batch/v1/namespaces/beta/jobs/j');
    expect(jobGone.body).toMatchObject({ kind: 'Status', status: 'Success' });
    const orphan = await call('GET', '/api/v1/namespaces/beta/pods/jp');
    expect(orphan.body.metadata.ownerReferences).toBeUndefined();

    const nsDeleted = await call('DELETE', '/api/v1/namespaces/beta');
    expect(nsDeleted.body.status.phase).toBe('Terminating');
    const refused = await call('POST', '/api/v1/namespaces/beta/pods', {
      ...pod,
      metadata: { name: 'p2' },
    });
    expect(refused.status).toBe(403);
    expect(refused.body.message).toBe(
      'pods "p2" is forbidden: unable to create new content in namespace beta because it is being terminated',
    );
    expect((await call('DELETE', '/api/v1/namespaces/default')).status).toBe(403);
  });

  it('deletes a collection by label selector', async () => {
    await call('POST', '/api/v1/namespaces', ns('gamma'));
    for (const [name, app] of [
      ['a', 'x'],
      ['b', 'x'],
      ['c', 'y'],
    ])
      await call('POST', '/api/v1/namespaces/gamma/services', {
        metadata: { name, labels: { app } },
        spec: { ports: [{ port: 80 }] },
      });
    const res = await call('DELETE', '/api/v1/namespaces/gamma/services?labelSelector=app%3Dx');
    expect(res.status).toBe(200);
    const left = await call('GET', '/api/v1/namespaces/gamma/services');
    expect(left.body.items.map((s: { metadata: { name: string } }) => s.metadata.name)).toEqual([
      'c',
    ]);
  });

  it('refuses what it does not support with a Status that says so', async () => {
    const exec = await call('POST', '/api/v1/namespaces/alpha/pods/p/exec');
    expect(exec.status).toBe(404);
    expect(exec.body.message).toMatch(
      /embedded cluster does not support the pods\/exec subresource/,
    );
    const unknown = await call('GET', '/apis/networking.k8s.io/v1/ingresses');
    expect(unknown.status).toBe(404);
    const proto = await call(
      'POST',
      '/api/v1/namespaces',
      'xx',
      'application/vnd.kubernetes.protobuf',
    );
    expect(proto.status).toBe(400);
    // The k8s protobuf envelope around a kind the embedded cluster has no layout for.
    const field = (no: number, body: Buffer) =>
      Buffer.concat([Buffer.from([(no << 3) | 2, body.length]), body]);
    const typeMeta = field(
      1,
      Buffer.concat([
        field(1, Buffer.from('networking.k8s.io/v1')),
        field(2, Buffer.from('Ingress')),
      ]),
    );
    const envelope = Buffer.concat([
      Buffer.from('k8s\0', 'latin1'),
      typeMeta,
      field(2, Buffer.alloc(0)),
    ]);
    const res = await fetch(`${base}/apis/apps/v1/namespaces/alpha/deployments`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${TOKEN}`,
        'Content-Type': 'application/vnd.kubernetes.protobuf',
      },
      body: envelope,
    });
    expect(res.status).toBe(415);
    const refusal = ((await res.json()) as { message: string }).message;
    expect(refusal).toMatch(/protobuf request bodies for networking.k8s.io\/v1 Ingress/);
    expect(refusal).toMatch(/kubectl apply -f/);
    const dry = await call('POST', '/api/v1/namespaces?dryRun=Some', ns('z'));
    expect(dry.status).toBe(400);
    const logs = await call('GET', '/api/v1/namespaces/alpha/pods/none/log');
    expect(logs.status).toBe(404);
  });

  it('enforces Pod Security on pods and warns about workload templates, as the admission plugin does', async () => {
    const labels = {
      'pod-security.kubernetes.io/enforce': 'restricted',
      'pod-security.kubernetes.io/warn': 'restricted',
    };
    await call('POST', '/api/v1/namespaces', ns('secure', labels));
    const workload = await call(
      'POST',
      '/apis/apps/v1/namespaces/secure/deployments',
      deployment('loose'),
    );
    expect(workload.status).toBe(201);
    expect(workload.warning).toMatch(
      /^299 - "would violate PodSecurity \\"restricted:latest\\": allowPrivilegeEscalation != false/,
    );
    const pod = await call('POST', '/api/v1/namespaces/secure/pods', {
      metadata: { name: 'loose' },
      spec: { containers: [{ name: 'c', image: 'multi-replica-app:dev' }] },
    });
    expect(pod.status).toBe(403);
    expect(pod.body.message).toMatch(
      /^pods "loose" is forbidden: violates PodSecurity "restricted:latest": /,
    );
  });

  it('supports dryRun=All without persisting', async () => {
    const res = await call('POST', '/api/v1/namespaces?dryRun=All', ns('dry'));
    expect(res.status).toBe(201);
    expect((await call('GET', '/api/v1/namespaces/dry')).status).toBe(404);
  });
});
