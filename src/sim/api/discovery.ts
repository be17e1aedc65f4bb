import { createHash } from 'node:crypto';
import { RESOURCE_TYPES, apiVersionOf, type ResourceType } from '../resources.js';
import { realSchemas } from './openapi.js';

/**
 * Discovery and OpenAPI documents. kubectl reads the legacy discovery documents to map
 * kinds and short names to URLs, and `/openapi/v3` before `apply` to learn that the
 * server validates fields itself (a PATCH operation with a `fieldValidation` parameter).
 */

/** The Kubernetes release the embedded cluster is measured against (test/fixtures/fidelity). */
export const KUBE_VERSION = { major: '1', minor: '34', gitVersion: 'v1.34.4-sim' };

export function versionInfo(): Record<string, string> {
  return {
    major: KUBE_VERSION.major,
    minor: KUBE_VERSION.minor,
    gitVersion: KUBE_VERSION.gitVersion,
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2026-01-01T00:00:00Z',
    goVersion: `node${process.versions.node}`,
    compiler: 'replica-demo',
    platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
  };
}

const ALL_CATEGORY = new Set([
  'pods',
  'services',
  'deployments',
  'replicasets',
  'jobs',
  'daemonsets',
  'statefulsets',
]);

const SUBRESOURCE: Record<
  string,
  { kind: string; verbs: string[]; group?: string; version?: string }
> = {
  status: { kind: '', verbs: ['get', 'patch', 'update'] },
  scale: { kind: 'Scale', verbs: ['get', 'patch', 'update'], group: 'autoscaling', version: 'v1' },
  log: { kind: 'Pod', verbs: ['get'] },
  portforward: { kind: 'PodPortForwardOptions', verbs: ['create', 'get'] },
  eviction: { kind: 'Eviction', verbs: ['create'], group: 'policy', version: 'v1' },
};

export function groupVersions(): { group: string; version: string }[] {
  const seen = new Map<string, { group: string; version: string }>();
  for (const t of RESOURCE_TYPES) seen.set(apiVersionOf(t), { group: t.group, version: t.version });
  return [...seen.values()];
}

export function apiVersions(hostPort: string): Record<string, unknown> {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: hostPort }],
  };
}

export function apiGroupList(): Record<string, unknown> {
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: groupVersions()
      .filter((gv) => gv.group !== '')
      .map((gv) => {
        const v = { groupVersion: `${gv.group}/${gv.version}`, version: gv.version };
        return { name: gv.group, versions: [v], preferredVersion: v };
      }),
  };
}

export function apiGroup(group: string): Record<string, unknown> | undefined {
  const gv = groupVersions().find((g) => g.group === group && group !== '');
  if (!gv) return undefined;
  const v = { groupVersion: `${gv.group}/${gv.version}`, version: gv.version };
  return { kind: 'APIGroup', apiVersion: 'v1', name: group, versions: [v], preferredVersion: v };
}

function storageHash(t: ResourceType): string {
  return createHash('sha256')
    .update(`${apiVersionOf(t)}/${t.kind}`)
    .digest('base64')
    .slice(0, 12);
}

export function apiResourceList(
  group: string,
  version: string,
): Record<string, unknown> | undefined {
  const types = RESOURCE_TYPES.filter((t) => t.group === group && t.version === version);
  if (types.length === 0) return undefined;
  const resources: Record<string, unknown>[] = [];
  for (const t of types) {
    const r: Record<string, unknown> = {
      name: t.plural,
      singularName: t.singular,
      namespaced: t.namespaced,
      kind: t.kind,
      verbs: t.verbs,
      storageVersionHash: storageHash(t),
    };
    if (t.shortNames.length) r.shortNames = t.shortNames;
    if (ALL_CATEGORY.has(t.plural)) r.categories = ['all'];
    resources.push(r);
    for (const sub of t.subresources) {
      const s = SUBRESOURCE[sub];
      if (!s) continue;
      const entry: Record<string, unknown> = {
        name: `${t.plural}/${sub}`,
        singularName: '',
        namespaced: t.namespaced,
        kind: s.kind || t.kind,
        verbs: s.verbs,
      };
      if (s.group) entry.group = s.group;
      if (s.version) entry.version = s.version;
      resources.push(entry);
    }
  }
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group ? `${group}/${version}` : version,
    resources,
  };
}

// ---- OpenAPI v3 ----------------------------------------------------------------------

function gvPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

function schemaName(t: ResourceType): string {
  const pkg = t.group === '' ? 'core' : t.group;
  return `io.k8s.api.${pkg}.${t.version}.${t.kind}`;
}

const query = (name: string, description: string) => ({
  name,
  in: 'query',
  description,
  schema: { type: 'string', uniqueItems: true },
});

function patchOperation(t: ResourceType, sub = ''): Record<string, unknown> {
  const ref = { $ref: `#/components/schemas/${schemaName(t)}` };
  // Strategic merge is not declared: kubectl then computes client-side apply patches
  // from its own built-in type information rather than from these short schemas.
  const content = Object.fromEntries(
    [
      'application/apply-patch+yaml',
      'application/json-patch+json',
      'application/merge-patch+json',
    ].map((ct) => [ct, { schema: { type: 'object' } }]),
  );
  return {
    description: `partially update the specified ${t.kind}${sub ? ` ${sub}` : ''}`,
    operationId: `patch${t.kind}${sub}`,
    parameters: [
      query('dryRun', 'When present, indicates that modifications should not be persisted.'),
      query(
        'fieldManager',
        'fieldManager is a name associated with the actor or entity that is making these changes.',
      ),
      query(
        'fieldValidation',
        'fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields.',
      ),
      {
        name: 'force',
        in: 'query',
        description: 'Force is going to "force" Apply requests.',
        schema: { type: 'boolean', uniqueItems: true },
      },
    ],
    requestBody: { content, required: true },
    responses: { '200': { description: 'OK', content: { 'application/json': { schema: ref } } } },
    'x-kubernetes-action': 'patch',
    'x-kubernetes-group-version-kind': { group: t.group, version: t.version, kind: t.kind },
  };
}

export function openApiDocument(
  group: string,
  version: string,
): Record<string, unknown> | undefined {
  const types = RESOURCE_TYPES.filter((t) => t.group === group && t.version === version);
  if (types.length === 0) return undefined;
  const base = `/${gvPath(group, version)}`;
  const paths: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = {};
  for (const t of types) {
    const item = t.namespaced
      ? `${base}/namespaces/{namespace}/${t.plural}/{name}`
      : `${base}/${t.plural}/{name}`;
    const ref = { $ref: `#/components/schemas/${schemaName(t)}` };
    const gvk = { group: t.group, version: t.version, kind: t.kind };
    paths[item] = {
      get: {
        operationId: `read${t.kind}`,
        responses: {
          '200': { description: 'OK', content: { 'application/json': { schema: ref } } },
        },
        'x-kubernetes-action': 'get',
        'x-kubernetes-group-version-kind': gvk,
      },
      patch: patchOperation(t),
      parameters: [
        { name: 'name', in: 'path', required: true, schema: { type: 'string', uniqueItems: true } },
        ...(t.namespaced
          ? [
              {
                name: 'namespace',
                in: 'path',
                required: true,
                schema: { type: 'string', uniqueItems: true },
              },
            ]
          : []),
      ],
    };
    for (const sub of t.subresources.filter((s) => s === 'status' || s === 'scale'))
      paths[`${item}/${sub}`] = { patch: patchOperation(t, sub) };
    schemas[schemaName(t)] = {
      description: `${t.kind} as served by the embedded cluster.`,
      type: 'object',
      properties: {
        apiVersion: { type: 'string' },
        kind: { type: 'string' },
        metadata: { type: 'object' },
        spec: { type: 'object' },
        status: { type: 'object' },
      },
      'x-kubernetes-group-version-kind': [gvk],
    };
  }
  // The real schemas, where captured, so that `kubectl explain` has fields and descriptions.
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: KUBE_VERSION.gitVersion },
    paths,
    components: { schemas: { ...schemas, ...realSchemas(group, version) } },
  };
}

// The documents never change while the daemon runs: their hashes are worked out once.
let index: Record<string, unknown> | undefined;

export function openApiIndex(): Record<string, unknown> {
  if (index) return index;
  const paths: Record<string, unknown> = {};
  for (const gv of groupVersions()) {
    const p = gvPath(gv.group, gv.version);
    const doc = JSON.stringify(openApiDocument(gv.group, gv.version));
    const hash = createHash('sha512').update(doc).digest('hex').slice(0, 64).toUpperCase();
    paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=${hash}` };
  }
  index = { paths };
  return index;
}

/**
 * The API groups a Kubernetes 1.34 API server serves by itself. A path in one of them that
 * the embedded cluster does not serve says so; any other path is simply not found, as on a
 * real cluster without that extension.
 */
const BUILT_IN_GROUPS = new Set([
  'admissionregistration.k8s.io',
  'apiextensions.k8s.io',
  'apiregistration.k8s.io',
  'apps',
  'authentication.k8s.io',
  'authorization.k8s.io',
  'autoscaling',
  'batch',
  'certificates.k8s.io',
  'coordination.k8s.io',
  'discovery.k8s.io',
  'events.k8s.io',
  'flowcontrol.apiserver.k8s.io',
  'networking.k8s.io',
  'node.k8s.io',
  'policy',
  'rbac.authorization.k8s.io',
  'resource.k8s.io',
  'scheduling.k8s.io',
  'storage.k8s.io',
]);

export function builtInPath(path: string): boolean {
  const parts = path.split('/').filter(Boolean);
  if (parts[0] === 'api') return true;
  return parts[0] === 'apis' && BUILT_IN_GROUPS.has(parts[1] ?? '');
}
