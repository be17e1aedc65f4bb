import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as clientNode from '@kubernetes/client-node';
import { Deployment } from 'kubernetes-models/apps/v1';
import { Namespace, Service } from 'kubernetes-models/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { OperationError } from '../src/cli/errors.js';
import {
  findObject,
  loadManifests,
  manifestsDir,
  parseManifests,
  renderManifests,
  toYamlStream,
  type KubeObjectLike,
} from '../src/cli/core/manifests.js';
import {
  APP_LABEL_KEY,
  APP_LABEL_VALUE,
  CONTAINER_NAME,
  CONTAINER_PORT,
  CONTAINER_PORT_NAME,
  DEFAULT_REPLICAS,
  DEPLOYMENT,
  IMAGE_REPOSITORY,
  KIND_CLUSTER_CONFIG,
  LIVENESS_PATH,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  NAMESPACE,
  PLACEHOLDER_IMAGE_TAG,
  POD_DISRUPTION_BUDGET,
  READINESS_PATH,
  SERVER_GROUP_ID,
  SERVER_PATHS,
  SERVER_USER_ID,
  SERVICE,
  SERVICE_PORT,
} from '../src/cli/core/names.js';
import { hardeningGaps, restrictedViolations } from '../src/sim/pod-security.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Time the server may take, after SIGTERM, to finish requests in flight and close. */
const SERVER_DRAIN_BUDGET_SECONDS = 10;

// Loose views of the parts of the objects the tests read; the schema test checks the rest.
interface Port {
  name?: string;
  containerPort: number;
  hostPort?: number;
}
interface Probe {
  httpGet?: { path?: string; port: string | number };
  tcpSocket?: { port: string | number };
}
interface Container {
  name: string;
  image: string;
  imagePullPolicy?: string;
  ports?: Port[];
  env?: { name: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  startupProbe?: Probe;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  lifecycle?: { preStop?: { sleep?: { seconds: number } } };
  securityContext?: Record<string, unknown>;
}
interface PodSpec {
  containers: Container[];
  terminationGracePeriodSeconds?: number;
  automountServiceAccountToken?: boolean;
  securityContext?: Record<string, unknown>;
  topologySpreadConstraints?: {
    topologyKey: string;
    whenUnsatisfiable: string;
    maxSkew: number;
    labelSelector?: { matchLabels?: Record<string, string> };
  }[];
}
interface DeploymentSpec {
  replicas: number;
  revisionHistoryLimit?: number;
  selector: { matchLabels: Record<string, string> };
  strategy: { type: string; rollingUpdate: { maxUnavailable: number; maxSurge: number } };
  template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
}

function objectOf(objects: readonly KubeObjectLike[], kind: string, name?: string) {
  const found = findObject(objects, kind, name);
  if (!found) throw new Error(`no ${kind} ${name ?? ''} in the manifests`);
  return found;
}

function deploymentSpec(objects: readonly KubeObjectLike[]): DeploymentSpec {
  return objectOf(objects, 'Deployment', DEPLOYMENT).spec as DeploymentSpec;
}

function serverContainer(spec: DeploymentSpec): Container {
  const container = spec.template.spec.containers.find((c) => c.name === CONTAINER_NAME);
  if (!container) throw new Error(`no container ${CONTAINER_NAME}`);
  return container;
}

function isSubset(subset: Record<string, string>, of: Record<string, string>): boolean {
  return Object.entries(subset).every(([key, value]) => of[key] === value);
}

/** Validates against the Kubernetes schema (kubernetes-models); throws on the first error. */
function validateAgainstSchema(object: KubeObjectLike): void {
  const data = object as never;
  switch (`${object.apiVersion}/${object.kind}`) {
    case 'v1/Namespace':
      return new Namespace(data).validate();
    case 'apps/v1/Deployment':
      return new Deployment(data).validate();
    case 'v1/Service':
      return new Service(data).validate();
    case 'policy/v1/PodDisruptionBudget':
      return new PodDisruptionBudget(data).validate();
    default:
      throw new Error(`no schema wired up for ${object.apiVersion} ${object.kind}`);
  }
}

interface AttributeType {
  baseName: string;
  type: string;
}

/** client-node's model class for an OpenAPI type name, when it has one. */
function modelAttributes(typeName: string): AttributeType[] | undefined {
  const model = (clientNode as unknown as Record<string, unknown>)[typeName] as
    { getAttributeTypeMap?: () => AttributeType[] } | undefined;
  return typeof model?.getAttributeTypeMap === 'function' ? model.getAttributeTypeMap() : undefined;
}

/**
 * Fields the API server would refuse under `fieldValidation=Strict` (what `kubectl apply`
 * sends): anything the Kubernetes models do not declare. The schema check above allows them.
 */
function unknownFields(value: unknown, typeName: string, where: string): string[] {
  const arrayOf = /^Array<(.+)>$/.exec(typeName);
  if (arrayOf?.[1]) {
    const inner = arrayOf[1];
    return Array.isArray(value)
      ? value.flatMap((item, i) => unknownFields(item, inner, `${where}[${i}]`))
      : [];
  }
  const mapOf = /^\{ \[key: string\]: (.+); \}$/.exec(typeName);
  if (mapOf?.[1]) {
    const inner = mapOf[1];
    return Object.entries(value as Record<string, unknown>).flatMap(([key, item]) =>
      unknownFields(item, inner, `${where}.${key}`),
    );
  }
  const attributes = modelAttributes(typeName);
  if (!attributes || typeof value !== 'object' || value === null) return [];
  const known = new Map(attributes.map((a) => [a.baseName, a.type]));
  return Object.entries(value).flatMap(([key, item]) => {
    const type = known.get(key);
    return type === undefined ? [`${where}.${key}`] : unknownFields(item, type, `${where}.${key}`);
  });
}

const objects = loadManifests();

describe('manifests/ as kubectl apply -f manifests/ reads them', () => {
  it('holds exactly the namespace, Deployment, Service and PodDisruptionBudget, namespace first', () => {
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      `Namespace/${NAMESPACE}`,
      `Deployment/${DEPLOYMENT}`,
      `Service/${SERVICE}`,
      `PodDisruptionBudget/${POD_DISRUPTION_BUDGET}`,
    ]);
  });

  it('every object validates against the Kubernetes schema', () => {
    for (const object of objects) {
      expect(() => validateAgainstSchema(object), `${object.kind}`).not.toThrow();
    }
  });

  it('the schema check does catch a wrongly typed field', () => {
    const broken = structuredClone(objectOf(objects, 'Deployment'));
    (broken.spec as Record<string, unknown>).replicas = 'five';
    expect(() => validateAgainstSchema(broken)).toThrow(/replicas/);
  });

  it('has no field the API server would refuse as unknown', () => {
    for (const object of objects) {
      expect(unknownFields(object, `V1${object.kind}`, object.kind)).toEqual([]);
    }
  });

  it('the unknown-field check does catch a misspelt field', () => {
    const broken = structuredClone(objectOf(objects, 'Deployment'));
    const spec = broken.spec as DeploymentSpec;
    const container = serverContainer(spec);
    container.securityContext = { ...container.securityContext, readOnlyRootFileSystem: true };
    expect(unknownFields(broken, 'V1Deployment', 'Deployment')).toEqual([
      'Deployment.spec.template.spec.containers[0].securityContext.readOnlyRootFileSystem',
    ]);
  });

  it('puts every namespaced object in the lesson namespace', () => {
    for (const object of objects.filter((o) => o.kind !== 'Namespace')) {
      expect(object.metadata.namespace, object.kind).toBe(NAMESPACE);
    }
  });

  it('labels the namespace as ours and enforces, warns and audits Pod Security restricted', () => {
    const labels = objectOf(objects, 'Namespace').metadata.labels ?? {};
    expect(labels[MANAGED_BY_LABEL]).toBe(MANAGED_BY_VALUE);
    for (const mode of ['enforce', 'warn', 'audit']) {
      expect(labels[`pod-security.kubernetes.io/${mode}`]).toBe('restricted');
      expect(labels[`pod-security.kubernetes.io/${mode}-version`]).toMatch(/^(latest|v1\.\d+)$/);
    }
  });

  it('leaves kind-cluster.yaml out: it is not a Kubernetes object', () => {
    expect(objects.some((o) => o.kind === 'Cluster')).toBe(false);
    expect(KIND_CLUSTER_CONFIG.startsWith('manifests/kind/')).toBe(true);
  });
});

describe('the Deployment', () => {
  const spec = deploymentSpec(objects);
  const container = serverContainer(spec);
  const podLabels = spec.template.metadata.labels;

  it('keeps the lesson names: 5 replicas selected by app=web-server', () => {
    expect(spec.replicas).toBe(DEFAULT_REPLICAS);
    expect(spec.selector.matchLabels).toEqual({ [APP_LABEL_KEY]: APP_LABEL_VALUE });
  });

  it('has a selector that matches its own pod template', () => {
    expect(isSubset(spec.selector.matchLabels, podLabels)).toBe(true);
  });

  it('runs the placeholder image, which the CLI replaces, and never pulls when it is present', () => {
    expect(container.image).toBe(`${IMAGE_REPOSITORY}:${PLACEHOLDER_IMAGE_TAG}`);
    expect(container.image.endsWith(':latest')).toBe(false);
    expect(container.imagePullPolicy).toBe('IfNotPresent');
  });

  it('names port 8080 http', () => {
    expect(container.ports).toContainEqual(
      expect.objectContaining({ name: CONTAINER_PORT_NAME, containerPort: CONTAINER_PORT }),
    );
  });

  it('gives the server its identity through the downward API', () => {
    const fieldPaths = Object.fromEntries(
      (container.env ?? []).map((e) => [e.name, e.valueFrom?.fieldRef?.fieldPath]),
    );
    expect(fieldPaths).toMatchObject({
      POD_NAME: 'metadata.name',
      POD_NAMESPACE: 'metadata.namespace',
      POD_IP: 'status.podIP',
      NODE_NAME: 'spec.nodeName',
    });
  });

  it('has distinct readiness and liveness probes plus a startup probe', () => {
    expect(container.readinessProbe?.httpGet?.path).toBe(READINESS_PATH);
    expect(container.livenessProbe?.httpGet?.path).toBe(LIVENESS_PATH);
    expect(READINESS_PATH).not.toBe(LIVENESS_PATH);
    expect(container.startupProbe?.httpGet).toBeDefined();
  });

  it('points every probe at a real container port and a path the server answers', () => {
    const ports = container.ports ?? [];
    const probes = [container.startupProbe, container.readinessProbe, container.livenessProbe];
    for (const probe of probes) {
      const target = probe?.httpGet;
      expect(target, 'every probe is an HTTP probe').toBeDefined();
      if (!target) continue;
      expect(SERVER_PATHS as readonly string[]).toContain(target.path);
      const port = ports.find((p) => p.name === target.port || p.containerPort === target.port);
      expect(port, `probe port ${target.port}`).toBeDefined();
    }
  });

  it('requests and limits CPU and memory, with requests below limits', () => {
    const { requests, limits } = container.resources ?? {};
    for (const resource of ['cpu', 'memory']) {
      expect(requests?.[resource], `request ${resource}`).toBeDefined();
      expect(limits?.[resource], `limit ${resource}`).toBeDefined();
    }
    expect(requests).toEqual({ cpu: '50m', memory: '64Mi' });
    expect(limits).toEqual({ cpu: '500m', memory: '128Mi' });
  });

  it('rolls out without ever dropping below the asked-for ready replicas', () => {
    expect(spec.strategy.type).toBe('RollingUpdate');
    expect(spec.strategy.rollingUpdate).toEqual({ maxUnavailable: 0, maxSurge: 1 });
    expect(spec.revisionHistoryLimit).toBeGreaterThan(0);
  });

  it('spreads pods over nodes without ever blocking scheduling', () => {
    const spread = spec.template.spec.topologySpreadConstraints ?? [];
    expect(spread).toHaveLength(1);
    expect(spread[0]).toMatchObject({
      topologyKey: 'kubernetes.io/hostname',
      whenUnsatisfiable: 'ScheduleAnyway',
      maxSkew: 1,
    });
    expect(isSubset(spread[0]?.labelSelector?.matchLabels ?? { none: 'x' }, podLabels)).toBe(true);
  });

  it('pauses before SIGTERM and gives the grace period room for the pause plus a drain', () => {
    const pause = container.lifecycle?.preStop?.sleep?.seconds;
    expect(pause).toBeGreaterThanOrEqual(3);
    const grace = spec.template.spec.terminationGracePeriodSeconds ?? 30;
    expect(grace).toBeGreaterThanOrEqual((pause ?? 0) + SERVER_DRAIN_BUDGET_SECONDS);
  });

  it('passes the restricted profile and our own hardening with nothing to report', () => {
    expect(restrictedViolations(spec.template.spec)).toEqual([]);
    expect(hardeningGaps(spec.template.spec)).toEqual([]);
    expect(spec.template.spec.securityContext).toMatchObject({
      runAsUser: SERVER_USER_ID,
      runAsGroup: SERVER_GROUP_ID,
    });
  });

  it("runs as the Dockerfile's numeric user and group", () => {
    const dockerfile = readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8');
    const users = [...dockerfile.matchAll(/^\s*USER\s+(\S+)\s*$/gim)].map((m) => m[1]);
    const [user, group] = (users.at(-1) ?? '').split(':');
    expect(user).toBe(String(SERVER_USER_ID));
    if (group !== undefined) expect(group).toBe(String(SERVER_GROUP_ID));
  });

  /** Each field the pod template must set, as a path below the pod spec, and its setter. */
  const hardeningFields: { field: string; remove: (pod: PodSpec) => void }[] = [
    { field: 'automountServiceAccountToken', remove: (p) => delete p.automountServiceAccountToken },
    { field: 'runAsNonRoot', remove: (p) => delete p.securityContext?.runAsNonRoot },
    { field: 'runAsUser', remove: (p) => delete p.securityContext?.runAsUser },
    { field: 'runAsGroup', remove: (p) => delete p.securityContext?.runAsGroup },
    { field: 'seccompProfile', remove: (p) => delete p.securityContext?.seccompProfile },
    ...['runAsNonRoot', 'allowPrivilegeEscalation', 'capabilities', 'readOnlyRootFilesystem'].map(
      (field) => ({
        field,
        remove: (p: PodSpec) => {
          const c = p.containers.find((x) => x.name === CONTAINER_NAME);
          delete c?.securityContext?.[field];
        },
      }),
    ),
  ];

  it.each(hardeningFields.map((f, i) => [i, f.field] as const))(
    'catches the removal of hardening field #%i (%s)',
    (index, field) => {
      const pod = structuredClone(spec.template.spec);
      hardeningFields[index]?.remove(pod);
      const complaints = [...restrictedViolations(pod), ...hardeningGaps(pod)];
      expect(complaints.length).toBeGreaterThan(0);
      expect(complaints.join('\n')).toContain(field);
    },
  );

  it('is refused by the restricted profile itself for each field Pod Security checks', () => {
    const without = (edit: (pod: PodSpec, c: Record<string, unknown>) => void) => {
      const pod = structuredClone(spec.template.spec);
      const c = pod.containers.find((x) => x.name === CONTAINER_NAME);
      if (!c?.securityContext) throw new Error('no container securityContext');
      edit(pod, c.securityContext);
      return restrictedViolations(pod);
    };
    const name = `"${CONTAINER_NAME}"`;
    expect(without((_, c) => delete c.allowPrivilegeEscalation)).toEqual([
      `allowPrivilegeEscalation != false (container ${name} must set securityContext.allowPrivilegeEscalation=false)`,
    ]);
    expect(without((_, c) => delete c.capabilities)).toEqual([
      `unrestricted capabilities (container ${name} must set securityContext.capabilities.drop=["ALL"])`,
    ]);
    expect(without((p) => delete p.securityContext?.seccompProfile)).toEqual([
      `seccompProfile (pod or container ${name} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")`,
    ]);
    // The pod-level and container-level runAsNonRoot each satisfy the profile alone.
    expect(
      without((p, c) => {
        delete p.securityContext?.runAsNonRoot;
        delete c.runAsNonRoot;
      }),
    ).toEqual([
      `runAsNonRoot != true (pod or container ${name} must set securityContext.runAsNonRoot=true)`,
    ]);
    expect(without((p) => (p.securityContext = { ...p.securityContext, runAsUser: 0 }))).toEqual([
      'runAsUser=0 (pod must not set runAsUser=0)',
    ]);
  });
});

describe('the Service', () => {
  const service = objectOf(objects, 'Service', SERVICE);
  const spec = service.spec as {
    selector: Record<string, string>;
    sessionAffinity: string;
    ports: { name: string; port: number; targetPort: string | number }[];
  };
  const deployment = deploymentSpec(objects);

  it('selects the Deployment pods and nothing wider', () => {
    expect(spec.selector).toEqual({ [APP_LABEL_KEY]: APP_LABEL_VALUE });
    expect(isSubset(spec.selector, deployment.template.metadata.labels)).toBe(true);
  });

  it('sends port 80 to a port the container really exposes', () => {
    const ports = serverContainer(deployment).ports ?? [];
    expect(spec.ports).toHaveLength(1);
    const [port] = spec.ports;
    expect(port).toMatchObject({ name: 'http', port: SERVICE_PORT });
    const target = ports.find(
      (p) => p.name === port?.targetPort || p.containerPort === port?.targetPort,
    );
    expect(target?.containerPort).toBe(CONTAINER_PORT);
  });

  it('spells out sessionAffinity None, so connections are spread, not pinned', () => {
    expect(spec.sessionAffinity).toBe('None');
  });
});

describe('the PodDisruptionBudget', () => {
  const pdb = objectOf(objects, 'PodDisruptionBudget');
  const spec = pdb.spec as {
    selector: { matchLabels: Record<string, string> };
    maxUnavailable?: number;
    minAvailable?: number;
  };

  it('covers the Deployment pods and still lets a drain take one', () => {
    expect(
      isSubset(spec.selector.matchLabels, deploymentSpec(objects).template.metadata.labels),
    ).toBe(true);
    expect(spec.maxUnavailable).toBe(1);
    expect(spec.minAvailable).toBeUndefined();
  });
});

describe('manifests/kind/kind-cluster.yaml', () => {
  const config = parse(readFileSync(path.join(repoRoot, KIND_CLUSTER_CONFIG), 'utf8')) as {
    kind: string;
    apiVersion: string;
    name?: string;
    nodes: { role: string }[];
  };

  it('is a kind Cluster with one control plane and two workers', () => {
    expect(config.kind).toBe('Cluster');
    expect(config.apiVersion).toBe('kind.x-k8s.io/v1alpha4');
    const roles = config.nodes.map((n) => n.role);
    expect(roles.filter((r) => r === 'control-plane')).toHaveLength(1);
    expect(roles.filter((r) => r === 'worker')).toHaveLength(2);
    expect(roles).toHaveLength(3);
  });

  it('leaves the cluster name to --name', () => {
    expect(config.name).toBeUndefined();
  });
});

describe('renderManifests', () => {
  const options = { image: `${IMAGE_REPOSITORY}:0123456789ab`, replicas: 3, namespace: 'demo-two' };

  it('sets image, replicas and namespace on new objects', () => {
    const rendered = renderManifests(objects, options);
    const spec = deploymentSpec(rendered);
    expect(spec.replicas).toBe(3);
    expect(serverContainer(spec).image).toBe(options.image);
    expect(objectOf(rendered, 'Namespace').metadata.name).toBe('demo-two');
    for (const object of rendered.filter((o) => o.kind !== 'Namespace')) {
      expect(object.metadata.namespace, object.kind).toBe('demo-two');
    }
    expect(objectOf(rendered, 'Namespace').metadata.labels?.[MANAGED_BY_LABEL]).toBe(
      MANAGED_BY_VALUE,
    );
    for (const object of rendered) expect(() => validateAgainstSchema(object)).not.toThrow();
  });

  it('never changes its input, and its output shares nothing with it', () => {
    const before = structuredClone(objects);
    const rendered = renderManifests(objects, options);
    expect(objects).toEqual(before);
    serverContainer(deploymentSpec(rendered)).image = 'changed';
    deploymentSpec(rendered).template.metadata.labels.extra = 'x';
    expect(objects).toEqual(before);
  });

  it('leaves the files on disk as they were', () => {
    const dir = manifestsDir();
    const read = () =>
      ['10-deployment.yaml', '00-namespace.yaml'].map((f) =>
        readFileSync(path.join(dir, f), 'utf8'),
      );
    const before = read();
    renderManifests(loadManifests(dir), options);
    expect(read()).toEqual(before);
  });

  it('puts the managed-by label back on a namespace that lost it', () => {
    const stripped = structuredClone(objects);
    const ns = objectOf(stripped, 'Namespace');
    delete ns.metadata.labels?.[MANAGED_BY_LABEL];
    const rendered = renderManifests(stripped, options);
    expect(objectOf(rendered, 'Namespace').metadata.labels?.[MANAGED_BY_LABEL]).toBe(
      MANAGED_BY_VALUE,
    );
  });

  it.each([
    [{ ...options, replicas: -1 }],
    [{ ...options, replicas: 1.5 }],
    [{ ...options, image: '' }],
    [{ ...options, image: 'a b' }],
    [{ ...options, namespace: 'Bad_Name' }],
    [{ ...options, namespace: '-lead' }],
    [{ ...options, namespace: 'x'.repeat(64) }],
  ])('refuses %j', (bad) => {
    expect(() => renderManifests(objects, bad)).toThrow(RangeError);
  });

  it('refuses manifests without the Deployment', () => {
    expect(() =>
      renderManifests(
        objects.filter((o) => o.kind !== 'Deployment'),
        options,
      ),
    ).toThrow(OperationError);
  });
});

describe('toYamlStream', () => {
  it('gives a multi-document stream that parses back to the same objects', () => {
    const rendered = renderManifests(objects, {
      image: `${IMAGE_REPOSITORY}:abc`,
      replicas: 2,
      namespace: NAMESPACE,
    });
    const text = toYamlStream(rendered);
    const documents = parseAllDocuments(text);
    expect(Array.isArray(documents)).toBe(true);
    expect((documents as { toJS(): unknown }[]).map((d) => d.toJS())).toEqual(rendered);
    expect(text).not.toMatch(/[&*]\w+\s*$/m);
  });
});

describe('loadManifests and parseManifests', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'replica-demo-manifests-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('reads every YAML file in file-name order, several documents per file, not sub-folders', () => {
    const dir = path.join(tmp, 'ordered');
    mkdirSync(path.join(dir, 'kind'), { recursive: true });
    writeFileSync(
      path.join(dir, '20-b.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b1}\n---\n# only a comment\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b2}\n',
    );
    writeFileSync(
      path.join(dir, '10-a.yml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n',
    );
    writeFileSync(path.join(dir, 'notes.txt'), 'not yaml: [');
    writeFileSync(
      path.join(dir, 'kind', 'c.yaml'),
      'kind: Cluster\napiVersion: x\nmetadata: {name: c}\n',
    );
    expect(loadManifests(dir).map((o) => o.metadata.name)).toEqual(['a', 'b1', 'b2']);
  });

  it('names the file and document of broken YAML or a document that is not an object', () => {
    expect(() => parseManifests('a: [1, 2', 'x.yaml')).toThrow(
      /x\.yaml: document 1 is not valid YAML/,
    );
    expect(() => parseManifests('---\nkind: A\n', 'y.yaml')).toThrow(
      /y\.yaml: document 1 has no apiVersion/,
    );
    expect(() => parseManifests('apiVersion: v1\nkind: A\nmetadata: {}\n', 'z.yaml')).toThrow(
      /z\.yaml: document 1 \(A\) has no metadata\.name/,
    );
  });

  it('refuses a folder without manifests', () => {
    const dir = path.join(tmp, 'empty');
    mkdirSync(dir);
    expect(() => loadManifests(dir)).toThrow(OperationError);
  });
});
