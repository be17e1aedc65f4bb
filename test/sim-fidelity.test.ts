/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-explicit-any --
   the assertions read JSON answers of many shapes */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../src/sim/store.js';
import { ApiServer } from '../src/sim/api/server.js';
import { ensureSystemNamespaces } from '../src/sim/defaults.js';
import { admitPod } from '../src/sim/admission.js';
import { nodeNames, nodeObject } from '../src/sim/nodes.js';
import { Scheduler } from '../src/sim/kubelet/scheduler.js';
import { seededRandom } from '../src/sim/random.js';
import { DEPLOYMENTS, NODES, PODS, REPLICASETS } from '../src/sim/controllers/common.js';
import { DisruptionController } from '../src/sim/controllers/disruption.js';
import { createPodFor } from '../src/sim/controllers/pods.js';
import { NamespaceDefaultsController } from '../src/sim/controllers/serviceaccounts.js';
import { DeploymentController } from '../src/sim/controllers/deployment.js';
import { EndpointsController } from '../src/sim/controllers/endpoints.js';
import { recordEvent } from '../src/sim/events.js';

/**
 * Where the differential suite (test/fidelity) found the embedded cluster unlike the real
 * one, each answer as the real API server gives it.
 */

const TOKEN = 'fidelity-token';
const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io';
let store: Store;
let api: ApiServer;
let base: string;

beforeAll(async () => {
  store = new Store();
  ensureSystemNamespaces(store);
  api = new ApiServer({ store, token: TOKEN, admitPod });
  base = `http://127.0.0.1:${await api.listen(0)}`;
});

afterAll(async () => {
  await api.close();
});

/** One request; a PATCH body is a JSON patch unless `type` names another, `accept` asks for a Table. */
async function call(
  method: string,
  path: string,
  body?: unknown,
  options: { type?: string; accept?: string } = {},
) {
  const type =
    options.type ?? (method === 'PATCH' ? 'application/json-patch+json' : 'application/json');
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${TOKEN}`,
      ...(body === undefined ? {} : { 'Content-Type': type }),
      ...(options.accept ? { Accept: options.accept } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const parsed: any = text.startsWith('{') ? JSON.parse(text) : text;
  return { status: res.status, body: parsed, warning: res.headers.get('warning') };
}

const pod = (name: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  spec: {
    containers: [
      {
        name: 'web',
        image: 'multi-replica-app:dev',
        env: [{ name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }],
      },
    ],
  },
});

describe('the embedded API server, as the real one answers', () => {
  it("reports the minor version of the real cluster the suite's answers came from", async () => {
    const recorded = JSON.parse(
      readFileSync(new URL('./fixtures/fidelity/real.json', import.meta.url), 'utf8'),
    ) as { server: string };
    const minor = /^v1\.(\d+)\./.exec(recorded.server)?.[1];
    const version = await call('GET', '/version');
    expect(version.body.minor).toBe(minor);
    expect(version.body.gitVersion).toMatch(new RegExp(`^v1\\.${minor}\\.\\d+`));
  });

  it('refuses a field selector on a field the resource does not index (400)', async () => {
    const bad = await call('GET', '/api/v1/namespaces/default/pods?fieldSelector=spec.bogus%3D1');
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({
      kind: 'Status',
      reason: 'BadRequest',
      message: 'field label not supported: spec.bogus',
    });
    const events = await call('GET', '/api/v1/namespaces/default/events?fieldSelector=fidget%3D1');
    expect(events.status).toBe(400);
    const good = await call(
      'GET',
      '/api/v1/namespaces/default/pods?fieldSelector=status.phase%3DRunning,metadata.name%3Dx',
    );
    expect(good.status).toBe(200);
    const reason = await call(
      'GET',
      '/api/v1/namespaces/default/events?fieldSelector=involvedObject.kind%3DPod',
    );
    expect(reason.status).toBe(200);
  });

  it('warns that v1 Endpoints are deprecated, as 1.33 and later do', async () => {
    const r = await call('GET', '/api/v1/namespaces/default/endpoints');
    expect(r.status).toBe(200);
    expect(r.warning).toBe(
      '299 - "v1 Endpoints is deprecated in v1.33+; use discovery.k8s.io/v1 EndpointSlice"',
    );
    expect((await call('GET', '/api/v1/namespaces/default/pods')).warning).toBeNull();
  });

  it('gives a new pod what the real admission plugins add: service account, priority, tolerations', async () => {
    const created = await call('POST', '/api/v1/namespaces/default/pods', pod('fid-admitted'));
    expect(created.status).toBe(201);
    const spec = created.body.spec;
    expect(spec.serviceAccountName).toBe('default');
    expect(spec.priority).toBe(0);
    expect(spec.preemptionPolicy).toBe('PreemptLowerPriority');
    expect(spec.enableServiceLinks).toBe(true);
    expect(spec.tolerations).toEqual([
      {
        key: 'node.kubernetes.io/not-ready',
        operator: 'Exists',
        effect: 'NoExecute',
        tolerationSeconds: 300,
      },
      {
        key: 'node.kubernetes.io/unreachable',
        operator: 'Exists',
        effect: 'NoExecute',
        tolerationSeconds: 300,
      },
    ]);
    expect(spec.containers[0].env[0].valueFrom.fieldRef).toEqual({
      apiVersion: 'v1',
      fieldPath: 'status.podIP',
    });
  });

  it('gives a pod its controller makes the same as one made through the API', () => {
    const owner = store.create(REPLICASETS, {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'fid-owner', namespace: 'default' },
      spec: { replicas: 1 },
    });
    const made = createPodFor(store, owner, { spec: pod('x').spec }, {}, 'replicaset-controller');
    expect(typeof made).not.toBe('string');
    const spec = (made as { spec: Record<string, unknown> }).spec;
    expect(spec).toMatchObject({ serviceAccountName: 'default', priority: 0 });
    expect(spec.tolerations).toHaveLength(2);
  });

  it('leaves the tolerations out of a pod template, as the real defaults do', async () => {
    const created = await call('POST', '/apis/apps/v1/namespaces/default/deployments', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'fid-template' },
      spec: {
        selector: { matchLabels: { app: 'fid' } },
        template: { metadata: { labels: { app: 'fid' } }, spec: pod('x').spec },
      },
    });
    expect(created.status).toBe(201);
    const spec = created.body.spec.template.spec;
    expect(spec.tolerations).toBeUndefined();
    expect(spec.serviceAccountName).toBeUndefined();
    expect(spec.containers[0].env[0].valueFrom.fieldRef.apiVersion).toBe('v1');
  });
});

describe('a cordoned node', () => {
  it('is shown SchedulingDisabled and gets no new pod', async () => {
    const names = nodeNames(3);
    names.forEach((name, i) =>
      store.create(NODES, nodeObject(name, i, names.length, store.timestamp())),
    );
    const worker = names[1] ?? '';
    store.update(NODES, undefined, worker, (n) => {
      n.spec = { ...(n.spec as object), unschedulable: true };
    });
    const table = await call('GET', `/api/v1/nodes/${worker}`);
    expect(table.status).toBe(200);
    const rows = (await call('GET', '/api/v1/nodes', undefined, { accept: TABLE })).body.rows as {
      cells: string[];
    }[];
    expect(rows.find((r) => r.cells[0] === worker)?.cells[1]).toBe('Ready,SchedulingDisabled');
    expect(rows.find((r) => r.cells[0] === names[2])?.cells[1]).toBe('Ready');

    const scheduler = new Scheduler(store, seededRandom('cordon'), () => undefined);
    scheduler.start();
    try {
      for (let i = 0; i < 6; i += 1)
        await call('POST', '/api/v1/namespaces/default/pods', pod(`fid-s${i}`));
      await new Promise((r) => setTimeout(r, 300));
      const placed = store
        .list(PODS, { namespace: 'default' })
        .items.filter((p) => p.metadata.name.startsWith('fid-s'))
        .map((p) => (p.spec as { nodeName?: string }).nodeName);
      expect(placed).toHaveLength(6);
      expect(placed.every((n) => n === names[2])).toBe(true);
    } finally {
      await scheduler.stop();
    }
  });
});

describe('rollout history and undo', () => {
  const path = '/apis/apps/v1/namespaces/default/deployments/fid-roll';
  const replicaSets = () =>
    store
      .list(REPLICASETS, { namespace: 'default' })
      .items.filter((rs) => rs.metadata.name.startsWith('fid-roll-'));
  const revisionOf = (o: { metadata: { annotations?: Record<string, string> } }) =>
    o.metadata.annotations?.['deployment.kubernetes.io/revision'];

  it('marks the Deployment with its revision, and undo scales the old ReplicaSet back up', async () => {
    const controller = new DeploymentController(
      store,
      () => new Date(),
      () => undefined,
    );
    controller.start();
    try {
      const template = { metadata: { labels: { app: 'fid-roll' } }, spec: pod('x').spec };
      await call('POST', '/apis/apps/v1/namespaces/default/deployments', {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'fid-roll' },
        spec: { replicas: 2, selector: { matchLabels: { app: 'fid-roll' } }, template },
      });
      await eventually(async () => revisionOf((await call('GET', path)).body) === '1');
      expect((await call('GET', path)).body.metadata.generation).toBe(1);

      await call('PATCH', path, [
        {
          op: 'replace',
          path: '/spec/template/spec/containers/0/image',
          value: 'multi-replica-app:two',
        },
      ]);
      await eventually(async () => revisionOf((await call('GET', path)).body) === '2');
      expect(replicaSets()).toHaveLength(2);

      // What `kubectl rollout undo` sends: the previous ReplicaSet's template, as Go encodes it.
      const first = replicaSets().find((rs) => revisionOf(rs) === '1');
      interface Template {
        metadata: { labels: Record<string, string>; creationTimestamp?: null };
      }
      const old = structuredClone((first?.spec as { template: Template }).template);
      delete old.metadata.labels['pod-template-hash'];
      old.metadata.creationTimestamp = null;
      const undo = await call('PATCH', path, [
        { op: 'replace', path: '/spec/template', value: old },
      ]);
      expect(undo.status).toBe(200);
      await eventually(async () => revisionOf((await call('GET', path)).body) === '3');
      const after = replicaSets();
      expect(after).toHaveLength(2);
      const back = after.find((rs) => rs.metadata.uid === first?.metadata.uid);
      expect(back && revisionOf(back)).toBe('3');
      const replicas = () =>
        (store.get(REPLICASETS, 'default', back?.metadata.name ?? '')?.spec as { replicas: number })
          .replicas;
      await eventually(() => Promise.resolve(replicas() > 0));
    } finally {
      await controller.stop();
    }
  });

  it("moves a Deployment's generation when its annotations change, as the real registry does", async () => {
    const before = (await call('GET', path)).body.metadata.generation as number;
    await call('PATCH', path, [{ op: 'add', path: '/metadata/annotations/fid', value: 'x' }]);
    expect((await call('GET', path)).body.metadata.generation).toBe(before + 1);
    await call('PATCH', path, [{ op: 'add', path: '/metadata/labels/fid', value: 'x' }]);
    expect((await call('GET', path)).body.metadata.generation).toBe(before + 1);
  });
});

async function eventually(check: () => Promise<boolean>, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`not so within ${ms} ms: ${check.toString()}`);
}

describe('EndpointSlices', () => {
  it("keeps a Service's slice: its ready pods, their ports, labelled and owned as the real one", async () => {
    const ns = 'fid-slices';
    await call('POST', '/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: ns },
    });
    const service = await call('POST', `/api/v1/namespaces/${ns}/services`, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', labels: { app: 'web' } },
      spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
    });
    expect(service.status).toBe(201);
    for (const [i, ready] of [true, true, false].entries())
      store.create(PODS, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `web-${i}`, namespace: ns, labels: { app: 'web' } },
        spec: {
          nodeName: 'replica-demo-worker',
          containers: [
            {
              name: 'web',
              image: 'multi-replica-app:dev',
              ports: [{ name: 'http', containerPort: 8080 }],
            },
          ],
        },
        status: {
          phase: 'Running',
          podIP: `127.9.0.${i + 2}`,
          conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
        },
      });
    const controller = new EndpointsController(store, () => undefined);
    controller.start();
    try {
      const list = `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dweb`;
      await eventually(
        async () => (await call('GET', list)).body.items?.[0]?.endpoints?.length === 3,
      );
      const slice = (await call('GET', list)).body.items[0];
      expect(slice.metadata.name).toMatch(/^web-[a-z0-9]{5}$/);
      expect(slice.metadata.labels).toMatchObject({
        app: 'web',
        'kubernetes.io/service-name': 'web',
        'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
      });
      expect(slice.metadata.ownerReferences[0]).toMatchObject({
        kind: 'Service',
        name: 'web',
        controller: true,
      });
      expect(slice.addressType).toBe('IPv4');
      expect(slice.ports).toEqual([{ name: 'http', protocol: 'TCP', port: 8080 }]);
      expect(
        slice.endpoints.map((e: { conditions: { ready: boolean } }) => e.conditions.ready),
      ).toEqual([true, true, false]);
      expect(slice.endpoints[0]).toMatchObject({
        addresses: ['127.9.0.2'],
        nodeName: 'replica-demo-worker',
        targetRef: { kind: 'Pod', name: 'web-0' },
      });

      const groups = (await call('GET', '/apis')).body.groups.map((g: { name: string }) => g.name);
      expect(groups).toContain('discovery.k8s.io');

      await call('DELETE', `/api/v1/namespaces/${ns}/services/web`);
      await eventually(async () => (await call('GET', list)).body.items?.length === 0);
    } finally {
      await controller.stop();
    }
  });
});

describe('PodDisruptionBudgets and evictions', () => {
  it('gives a budget its status, and an eviction uses up an allowed disruption or gets 429', async () => {
    const ns = 'fid-pdb';
    await call('POST', '/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: ns },
    });
    const d = store.create(DEPLOYMENTS, {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: ns },
      spec: { replicas: 4, selector: { matchLabels: { app: 'web' } }, template: {} },
    });
    const rs = store.create(REPLICASETS, {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: 'web-abc',
        namespace: ns,
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            name: 'web',
            uid: d.metadata.uid,
            controller: true,
          },
        ],
      },
      spec: { replicas: 4 },
    });
    for (const [i, ready] of [true, true, true, false].entries())
      store.create(PODS, {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: `web-abc-${i}`,
          namespace: ns,
          labels: { app: 'web' },
          ownerReferences: [
            {
              apiVersion: 'apps/v1',
              kind: 'ReplicaSet',
              name: 'web-abc',
              uid: rs.metadata.uid,
              controller: true,
            },
          ],
        },
        spec: {
          nodeName: 'replica-demo-worker',
          containers: [{ name: 'web', image: 'multi-replica-app:dev' }],
        },
        status: {
          phase: 'Running',
          conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
        },
      });
    const created = await call('POST', `/apis/policy/v1/namespaces/${ns}/poddisruptionbudgets`, {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'web-pdb' },
      spec: {
        maxUnavailable: 2,
        unhealthyPodEvictionPolicy: 'AlwaysAllow',
        selector: { matchLabels: { app: 'web' } },
      },
    });
    expect(created.status).toBe(201);
    const controller = new DisruptionController(store, () => undefined);
    controller.start();
    const pdbPath = `/apis/policy/v1/namespaces/${ns}/poddisruptionbudgets/web-pdb`;
    const evict = (pod: string) =>
      call('POST', `/api/v1/namespaces/${ns}/pods/${pod}/eviction`, {
        apiVersion: 'policy/v1',
        kind: 'Eviction',
        metadata: { name: pod, namespace: ns },
      });
    try {
      await eventually(async () => (await call('GET', pdbPath)).body.status?.expectedPods === 4);
      expect((await call('GET', pdbPath)).body.status).toMatchObject({
        expectedPods: 4,
        currentHealthy: 3,
        desiredHealthy: 2,
        disruptionsAllowed: 1,
        observedGeneration: 1,
        conditions: [{ type: 'DisruptionAllowed', status: 'True', reason: 'SufficientPods' }],
      });

      const first = await evict('web-abc-0');
      expect(first.status).toBe(201);
      expect(first.body).toEqual({
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Success',
        code: 201,
      });
      expect(store.get(PODS, ns, 'web-abc-0')?.metadata.deletionTimestamp).toBeDefined();

      const second = await evict('web-abc-1');
      expect(second.status).toBe(429);
      expect(second.body).toMatchObject({
        reason: 'TooManyRequests',
        message: "Cannot evict pod as it would violate the pod's disruption budget.",
        details: { causes: [{ reason: 'DisruptionBudget' }] },
      });
      expect(store.get(PODS, ns, 'web-abc-1')?.metadata.deletionTimestamp).toBeUndefined();

      // A pod that never became ready is not protected under AlwaysAllow.
      expect((await evict('web-abc-3')).status).toBe(201);
      await eventually(async () => (await call('GET', pdbPath)).body.status?.currentHealthy === 2);
      expect((await call('GET', pdbPath)).body.status).toMatchObject({
        disruptionsAllowed: 0,
        conditions: [{ status: 'False', reason: 'InsufficientPods' }],
      });
    } finally {
      await controller.stop();
    }
  });

  it('counts no generation on a Service, as the real registry does not', async () => {
    const svc = await call('POST', '/api/v1/namespaces/default/services', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'fid-gen' },
      spec: { ports: [{ port: 80 }] },
    });
    expect(svc.status).toBe(201);
    expect(svc.body.metadata.generation).toBeUndefined();
  });
});

describe('validation, with the real messages', () => {
  const workload = (edit: (spec: Record<string, any>) => void) => {
    const spec: Record<string, any> = {
      replicas: 1,
      selector: { matchLabels: { app: 'fid-v' } },
      template: {
        metadata: { labels: { app: 'fid-v' } },
        spec: {
          containers: [
            { name: 'web', image: 'multi-replica-app:dev', ports: [{ containerPort: 8080 }] },
          ],
        },
      },
    };
    edit(spec);
    return { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'fid-v' }, spec };
  };
  const create = (body: unknown) =>
    call('POST', '/apis/apps/v1/namespaces/default/deployments', body);

  it('refuses replicas that are no integer (400), as the decoder does', async () => {
    const r = await create(workload((s) => (s.replicas = 'five')));
    expect(r.status).toBe(400);
    expect(r.body.message).toBe(
      'Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32',
    );
  });

  it('refuses a container port out of range (422)', async () => {
    const r = await create(
      workload((s) => (s.template.spec.containers[0].ports[0].containerPort = 99999)),
    );
    expect(r.status).toBe(422);
    expect(r.body.message).toBe(
      'Deployment.apps "fid-v" is invalid: spec.template.spec.containers[0].ports[0].containerPort: Invalid value: 99999: must be between 1 and 65535, inclusive',
    );
  });

  it('answers a body over 3 MiB with 413, not a reset connection', async () => {
    const big = 'x'.repeat(4 * 1024 * 1024);
    const r = await call('POST', '/api/v1/namespaces/default/configmaps', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'fid-big' },
      data: { big },
    });
    expect(r.status).toBe(413);
    expect(r.body).toMatchObject({
      reason: 'RequestEntityTooLarge',
      message: 'Request entity too large: limit is 3145728',
    });
    expect((await call('GET', '/api/v1/namespaces/default/configmaps/fid-big')).status).toBe(404);
  });

  it('refuses annotations over 256 KiB in all (422)', async () => {
    const big = (size: number) => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `fid-big-${size}`, annotations: { big: 'x'.repeat(size) } },
    });
    const r = await call('POST', '/api/v1/namespaces/default/configmaps', big(300_000));
    expect(r.status).toBe(422);
    expect(r.body.message).toBe(
      'ConfigMap "fid-big-300000" is invalid: metadata.annotations: Too long: may not be more than 262144 bytes',
    );
    expect((await call('POST', '/api/v1/namespaces/default/configmaps', big(200_000))).status).toBe(
      201,
    );
  });
});

describe("the real schemas: kubectl explain's documents and unknown fields", () => {
  const body = (spec: Record<string, unknown>) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'fid-strict' },
    spec: {
      selector: { matchLabels: { app: 'fid-s' } },
      template: {
        metadata: { labels: { app: 'fid-s' } },
        spec: { containers: [{ name: 'web', image: 'multi-replica-app:dev' }] },
      },
      ...spec,
    },
  });
  const url = '/apis/apps/v1/namespaces/default/deployments';

  it('serves the real schema of a Deployment, with its fields and their descriptions', async () => {
    const index = await call('GET', '/openapi/v3');
    const doc = await call('GET', index.body.paths['apis/apps/v1'].serverRelativeURL);
    const spec = doc.body.components.schemas['io.k8s.api.apps.v1.DeploymentSpec'];
    expect(spec.properties.replicas).toMatchObject({ type: 'integer', format: 'int32' });
    expect(spec.properties.replicas.description).toMatch(/^Number of desired pods/);
    expect(doc.body.components.schemas['io.k8s.api.core.v1.PodSpec']).toBeDefined();
  });

  it('refuses unknown fields under fieldValidation=Strict with the decoder words', async () => {
    const r = await call(
      'POST',
      `${url}?fieldValidation=Strict`,
      body({ replica: 2, template2: {} }),
    );
    expect(r.status).toBe(400);
    expect(r.body.message).toBe(
      'Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.replica", unknown field "spec.template2"',
    );
  });

  it('warns about them by default, and keeps quiet under Ignore', async () => {
    const warned = await call('POST', url, body({ replica: 2 }));
    expect(warned.status).toBe(201);
    expect(warned.warning).toBe('299 - "unknown field \\"spec.replica\\""');
    const patch = await call(
      'PATCH',
      `${url}/fid-strict?fieldValidation=Ignore`,
      { spec: { fidget: 1 } },
      { type: 'application/merge-patch+json' },
    );
    expect(patch.status).toBe(200);
    expect(patch.warning).toBeNull();
    const strict = await call(
      'PATCH',
      `${url}/fid-strict?fieldValidation=Strict`,
      { spec: { template: { spec: { containers: [{ name: 'web', portz: [] }] } } } },
      { type: 'application/strategic-merge-patch+json' },
    );
    expect(strict.status).toBe(400);
    expect(strict.body.message).toContain('unknown field "spec.template.spec.containers[0].portz"');
  });
});

describe("a namespace's defaults and kubectl auth can-i", () => {
  it('puts the default ServiceAccount and kube-root-ca.crt in every namespace, new ones too', async () => {
    const controller = new NamespaceDefaultsController(store, 'PEM');
    controller.start();
    try {
      await call('POST', '/api/v1/namespaces', {
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: 'fid-defaults' },
      });
      await eventually(
        async () =>
          (await call('GET', '/api/v1/namespaces/fid-defaults/serviceaccounts/default')).status ===
          200,
      );
      const cm = await call('GET', '/api/v1/namespaces/fid-defaults/configmaps/kube-root-ca.crt');
      expect(cm.body.data).toEqual({ 'ca.crt': 'PEM' });
      expect((await call('GET', '/api/v1/namespaces/default/serviceaccounts/default')).status).toBe(
        200,
      );
      const table = (
        await call('GET', '/api/v1/namespaces/fid-defaults/serviceaccounts', undefined, {
          accept: TABLE,
        })
      ).body as { columnDefinitions: { name: string }[]; rows: { cells: unknown[] }[] };
      expect(table.columnDefinitions.map((c) => c.name)).toEqual(['Name', 'Secrets', 'Age']);
      expect(table.rows[0]?.cells.slice(0, 2)).toEqual(['default', 0]);
    } finally {
      await controller.stop();
    }
  });

  it('allows its one user everything, as RBAC allows a cluster admin', async () => {
    const r = await call('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      spec: { resourceAttributes: { verb: 'create', resource: 'deployments', group: 'apps' } },
    });
    expect(r.status).toBe(201);
    expect(r.body.status.allowed).toBe(true);
    expect(r.body.spec.resourceAttributes.verb).toBe('create');
  });
});

describe('patches and pods as the real API server makes them', () => {
  it("puts a strategic merge's new list items first, as the real one does", async () => {
    const path = '/apis/apps/v1/namespaces/default/deployments/fid-template';
    const body = (
      await call(
        'PATCH',
        `${path}?dryRun=All`,
        {
          spec: {
            template: {
              spec: { containers: [{ name: 'web', env: [{ name: 'FID', value: '1' }] }] },
            },
          },
        },
        {
          type: 'application/strategic-merge-patch+json',
        },
      )
    ).body as {
      spec: { template: { spec: { containers: { env: { name: string }[] }[] } } };
    };
    expect(body.spec.template.spec.containers[0]?.env.map((e) => e.name)).toEqual([
      'FID',
      'POD_IP',
    ]);
  });

  it('follows $setElementOrder when the patch has one, as kubectl set env sends', async () => {
    const path = '/apis/apps/v1/namespaces/default/deployments/fid-template';
    const body = (
      await call(
        'PATCH',
        `${path}?dryRun=All`,
        {
          spec: {
            template: {
              spec: {
                containers: [
                  {
                    name: 'web',
                    '$setElementOrder/env': [{ name: 'POD_IP' }, { name: 'FID' }],
                    env: [{ name: 'FID', value: '2' }],
                  },
                ],
              },
            },
          },
        },
        {
          type: 'application/strategic-merge-patch+json',
        },
      )
    ).body as {
      spec: { template: { spec: { containers: { env: { name: string }[] }[] } } };
    };
    expect(body.spec.template.spec.containers[0]?.env.map((e) => e.name)).toEqual([
      'POD_IP',
      'FID',
    ]);
  });

  it("shows in a dry run's answer the generation the write would give", async () => {
    const path = '/apis/apps/v1/namespaces/default/deployments/fid-template';
    const before = (await call('GET', path)).body.metadata.generation as number;
    const res = await call(
      'PATCH',
      `${path}?dryRun=All`,
      { spec: { replicas: 7 } },
      { type: 'application/merge-patch+json' },
    );
    expect(res.body.metadata.generation).toBe(before + 1);
    expect((await call('GET', path)).body.metadata.generation).toBe(before);
  });

  it("makes a spread constraint's matchLabelKeys part of the pod's selector", async () => {
    const spread = {
      maxSkew: 1,
      topologyKey: 'kubernetes.io/hostname',
      whenUnsatisfiable: 'ScheduleAnyway',
      labelSelector: { matchLabels: { app: 'fid' } },
      matchLabelKeys: ['pod-template-hash'],
    };
    const body = pod('fid-spread') as {
      metadata: Record<string, unknown>;
      spec: Record<string, unknown>;
    };
    body.metadata.labels = { app: 'fid', 'pod-template-hash': 'abc123' };
    body.spec.topologySpreadConstraints = [spread];
    const created = await call('POST', '/api/v1/namespaces/default/pods', body);
    expect(created.body.spec.topologySpreadConstraints[0].labelSelector).toEqual({
      matchLabels: { app: 'fid' },
      matchExpressions: [{ key: 'pod-template-hash', operator: 'In', values: ['abc123'] }],
    });
  });
});

describe('pages of a list', () => {
  it('continue after the last key given, so a deletion between pages skips nothing', async () => {
    const ns = 'fid-pages';
    await call('POST', '/api/v1/namespaces', {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: ns },
    });
    for (const name of ['a', 'b', 'c', 'd', 'e'])
      await call('POST', `/api/v1/namespaces/${ns}/configmaps`, {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name },
      });
    const url = `/api/v1/namespaces/${ns}/configmaps`;
    const first = await call('GET', `${url}?limit=2`);
    const names = (r: { body: { items: { metadata: { name: string } }[] } }) =>
      r.body.items.map((i) => i.metadata.name);
    expect(names(first)).toEqual(['a', 'b']);
    expect(first.body.metadata.remainingItemCount).toBe(3);
    await call('DELETE', `${url}/a`);
    const second = await call('GET', `${url}?limit=2&continue=${first.body.metadata.continue}`);
    expect(names(second)).toEqual(['c', 'd']);
    const bad = await call('GET', `${url}?limit=2&continue=fidget`);
    expect(bad.status).toBe(400);
    // "fidget" decodes to "~'`z": the API server's Go decoder names the first character.
    expect(bad.body.message).toBe(
      "invalid continue token: continue key is not valid: invalid character '~' looking for beginning of value",
    );
  });
});

describe('watches, paths and patches, as the real API server answers them', () => {
  it('answers a watch from before the cache started with 410 Expired, and one from now with changes', () => {
    const local = new Store();
    ensureSystemNamespaces(local);
    const inDefault = (name: string) => {
      const p = pod(name);
      return { ...p, metadata: { ...p.metadata, namespace: 'default' } };
    };
    local.create(PODS, inDefault('before'));
    local.compact();
    const now = local.list(PODS, {}).resourceVersion;
    expect(() => local.watch(PODS, { resourceVersion: '1' }, () => undefined)).toThrow(
      /^too old resource version: 1 \(\d+\)$/,
    );
    const seen: string[] = [];
    const stop = local.watch(PODS, { resourceVersion: now }, (e) =>
      seen.push(`${e.type} ${e.object.metadata.name}`),
    );
    local.create(PODS, inDefault('after'));
    return new Promise<void>((resolve) => {
      queueMicrotask(() => {
        stop();
        expect(seen).toEqual(['ADDED after']);
        resolve();
      });
    });
  });

  it('says the embedded cluster does not serve a built-in path, and only "not found" for others', async () => {
    const foreign = await call('GET', '/apis/fidgets.example.com/v1');
    expect(foreign.status).toBe(404);
    expect(foreign.body.message).toBe('the server could not find the requested resource');
    const builtIn = await call('GET', '/apis/storage.k8s.io/v1');
    expect(builtIn.status).toBe(404);
    expect(builtIn.body.message).toContain('the embedded cluster does not serve');
  });

  it('writes a Service spec in the fields order of the real one', async () => {
    const r = await call('POST', '/api/v1/namespaces/default/services', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'fid-order' },
      spec: { type: 'ClusterIP', selector: { app: 'x' }, ports: [{ port: 80, name: 'http' }] },
    });
    expect(r.status).toBe(201);
    expect(Object.keys(r.body.spec)).toEqual([
      'ports',
      'selector',
      'clusterIP',
      'clusterIPs',
      'type',
      'sessionAffinity',
      'ipFamilies',
      'ipFamilyPolicy',
      'internalTrafficPolicy',
    ]);
    expect(Object.keys(r.body.spec.ports[0])).toEqual(['name', 'protocol', 'port', 'targetPort']);
  });

  it('lets a JSON patch replace a missing key, then drops the unknown field with a warning', async () => {
    const url = '/api/v1/namespaces/default/pods/fid-jsonpatch';
    expect(
      (await call('POST', '/api/v1/namespaces/default/pods', pod('fid-jsonpatch'))).status,
    ).toBe(201);
    const r = await call('PATCH', url, [{ op: 'replace', path: '/spec/fidget', value: 3 }]);
    expect(r.status).toBe(200);
    expect(r.warning).toBe('299 - "unknown field \\"spec.fidget\\""');
    expect(r.body.spec.fidget).toBeUndefined();
    expect((await call('GET', url)).body.spec).not.toHaveProperty('fidget');
    const list = await call('PATCH', url, [
      { op: 'replace', path: '/spec/containers/5/image', value: 'x' },
    ]);
    expect(list.status).toBe(422);
  });
});

describe('selector errors', () => {
  it("names the token a label selector's parser found where a value belongs", async () => {
    const r = await call('GET', '/api/v1/namespaces/default/pods?labelSelector=app%3D%3D%3Dx');
    expect(r.status).toBe(400);
    expect(r.body.message).toBe("unable to parse requirement: found '=', expected: identifier");
    const ok = await call('GET', '/api/v1/namespaces/default/pods?labelSelector=app%3D%3Dx');
    expect(ok.status).toBe(200);
  });
});

describe('server-side apply of atomic maps', () => {
  it("owns a fieldRef as one value, so another manager's copy without the defaulted apiVersion conflicts", async () => {
    const path = '/apis/apps/v1/namespaces/default/deployments/fid-atomic';
    const manifest = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'fid-atomic' },
      spec: {
        selector: { matchLabels: { app: 'fid-atomic' } },
        template: {
          metadata: { labels: { app: 'fid-atomic' } },
          spec: pod('x').spec,
        },
      },
    };
    const apply = (manager: string) =>
      call('PATCH', `${path}?fieldManager=${manager}`, manifest, {
        type: 'application/apply-patch+yaml',
      });
    expect((await apply('first')).status).toBe(201);
    const second = await apply('second');
    expect(second.status).toBe(409);
    // The selector is atomic too, but equal as applied: only the defaulted fieldRef differs.
    expect(second.body.message).toBe(
      'Apply failed with 1 conflict: conflict with "first": .spec.template.spec.containers[name="web"].env[name="POD_IP"].valueFrom.fieldRef',
    );
    const live = await call('GET', path);
    expect(live.body.metadata.managedFields[0].fieldsV1['f:spec']['f:selector']).toEqual({});
  });
});

describe('kinds the embedded cluster lists but does not run', () => {
  it('lists StatefulSets, DaemonSets and ControllerRevisions as none, and refuses to create one', async () => {
    const apps = await call('GET', '/apis/apps/v1');
    const names = (apps.body.resources as { name: string; shortNames?: string[] }[]).map(
      (r) => `${r.name}${r.shortNames ? ` (${r.shortNames.join(',')})` : ''}`,
    );
    expect(names).toEqual(
      expect.arrayContaining(['statefulsets (sts)', 'daemonsets (ds)', 'controllerrevisions']),
    );
    const list = await call('GET', '/apis/apps/v1/namespaces/default/statefulsets');
    expect(list.status).toBe(200);
    expect(list.body).toMatchObject({ kind: 'StatefulSetList', items: [] });
    const created = await call('POST', '/apis/apps/v1/namespaces/default/statefulsets', {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'db' },
      spec: {},
    });
    expect(created.status).toBe(405);
    expect(created.body.message).toBe(
      'the embedded cluster does not support StatefulSets: it has no StatefulSet controller, so none of its pods would ever run; use a kind cluster',
    );
    expect((await call('GET', '/apis/apps/v1/namespaces/default/statefulsets/db')).status).toBe(
      404,
    );
  });
});

describe('events.k8s.io/v1', () => {
  it('shows the core events in its own shape, filters by its field names, and is read-only', async () => {
    const groups = await call('GET', '/apis');
    expect(groups.body.groups.map((g: { name: string }) => g.name)).toContain('events.k8s.io');
    const cm = await call('POST', '/api/v1/namespaces/default/configmaps', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'fid-evented' },
    });
    recordEvent(store, cm.body, 'Warning', 'Checked', 'looked at twice', 'fid-checker');
    recordEvent(store, cm.body, 'Warning', 'Checked', 'looked at twice', 'fid-checker');
    const url = '/apis/events.k8s.io/v1/namespaces/default/events';
    const list = await call('GET', `${url}?fieldSelector=regarding.name%3Dfid-evented`);
    expect(list.status).toBe(200);
    expect(list.body.kind).toBe('EventList');
    expect(list.body.items).toHaveLength(1);
    const event = list.body.items[0];
    expect(event).toMatchObject({
      apiVersion: 'events.k8s.io/v1',
      eventTime: null,
      reportingController: 'fid-checker',
      reason: 'Checked',
      regarding: { kind: 'ConfigMap', name: 'fid-evented', namespace: 'default' },
      note: 'looked at twice',
      type: 'Warning',
      deprecatedSource: { component: 'fid-checker' },
      deprecatedCount: 2,
    });
    expect(Object.keys(event.regarding)).toEqual([
      'kind',
      'namespace',
      'name',
      'uid',
      'apiVersion',
      'resourceVersion',
    ]);
    // The same object as the core Event of that name.
    const core = await call('GET', `/api/v1/namespaces/default/events/${event.metadata.name}`);
    expect(core.body.metadata.uid).toBe(event.metadata.uid);
    const write = await call('POST', url, { apiVersion: 'events.k8s.io/v1', kind: 'Event' });
    expect(write.status).toBe(405);
    expect(write.body.message).toMatch(/read-only, as the same objects as its core v1 Events/);
  });
});
