/** The resource types the embedded cluster serves, as the real API names them. */
export interface ResourceType {
  /** Plural, lower case, as in the URL: `pods`. */
  readonly plural: string;
  readonly singular: string;
  readonly kind: string;
  /** '' for the core group. */
  readonly group: string;
  readonly version: string;
  readonly namespaced: boolean;
  readonly shortNames: readonly string[];
  readonly verbs: readonly string[];
  /** Subresources served, e.g. `status`, `scale`, `log`, `portforward`. */
  readonly subresources: readonly string[];
  /**
   * Set for a kind the embedded cluster lists (always empty) but does not run: why it
   * refuses to create one. A tutorial's `kubectl get statefulsets` then answers as on a
   * real cluster, and a manifest of one gets that reason instead of an unknown path.
   */
  readonly notRun?: string;
  /**
   * Set for a type whose objects are another type's of the same plural, shown in this
   * group's shape (events.k8s.io/v1 Events are the core v1 Events), and read-only here.
   */
  readonly view?: true;
}

const ALL_VERBS = [
  'create',
  'delete',
  'deletecollection',
  'get',
  'list',
  'patch',
  'update',
  'watch',
];

function type(
  plural: string,
  kind: string,
  group: string,
  version: string,
  namespaced: boolean,
  shortNames: string[],
  subresources: string[] = [],
): ResourceType {
  return {
    plural,
    singular: kind.toLowerCase(),
    kind,
    group,
    version,
    namespaced,
    shortNames,
    verbs: ALL_VERBS,
    subresources,
  };
}

export const RESOURCE_TYPES: readonly ResourceType[] = [
  type('namespaces', 'Namespace', '', 'v1', false, ['ns'], ['status']),
  type('nodes', 'Node', '', 'v1', false, ['no'], ['status']),
  type('pods', 'Pod', '', 'v1', true, ['po'], ['status', 'log', 'portforward', 'eviction']),
  type('services', 'Service', '', 'v1', true, ['svc'], ['status']),
  type('endpoints', 'Endpoints', '', 'v1', true, ['ep']),
  type('configmaps', 'ConfigMap', '', 'v1', true, ['cm']),
  type('secrets', 'Secret', '', 'v1', true, []),
  type('serviceaccounts', 'ServiceAccount', '', 'v1', true, ['sa']),
  type('resourcequotas', 'ResourceQuota', '', 'v1', true, ['quota'], ['status']),
  type('limitranges', 'LimitRange', '', 'v1', true, ['limits']),
  type('events', 'Event', '', 'v1', true, ['ev']),
  type('deployments', 'Deployment', 'apps', 'v1', true, ['deploy'], ['status', 'scale']),
  type('replicasets', 'ReplicaSet', 'apps', 'v1', true, ['rs'], ['status', 'scale']),
  type('jobs', 'Job', 'batch', 'v1', true, [], ['status']),
  type('endpointslices', 'EndpointSlice', 'discovery.k8s.io', 'v1', true, []),
  type('poddisruptionbudgets', 'PodDisruptionBudget', 'policy', 'v1', true, ['pdb'], ['status']),
  notRun(
    type('daemonsets', 'DaemonSet', 'apps', 'v1', true, ['ds']),
    'DaemonSets: it has no DaemonSet controller, so none of its pods would ever run; use a kind cluster',
  ),
  notRun(
    type('statefulsets', 'StatefulSet', 'apps', 'v1', true, ['sts']),
    'StatefulSets: it has no StatefulSet controller, so none of its pods would ever run; use a kind cluster',
  ),
  {
    ...notRun(
      type('events', 'Event', 'events.k8s.io', 'v1', true, ['ev']),
      'writing events.k8s.io/v1 Events: it serves them read-only, as the same objects as its core v1 Events (write those)',
    ),
    view: true,
  },
  notRun(
    type('controllerrevisions', 'ControllerRevision', 'apps', 'v1', true, []),
    'ControllerRevisions: only the DaemonSet and StatefulSet controllers it does not run keep them',
  ),
];

function notRun(t: ResourceType, why: string): ResourceType {
  return { ...t, notRun: why };
}

export function apiVersionOf(t: ResourceType): string {
  return t.group === '' ? t.version : `${t.group}/${t.version}`;
}

export function resourceByPlural(group: string, plural: string): ResourceType | undefined {
  return RESOURCE_TYPES.find((t) => t.group === group && t.plural === plural);
}

export function resourceByKind(apiVersion: string, kind: string): ResourceType | undefined {
  return RESOURCE_TYPES.find((t) => apiVersionOf(t) === apiVersion && t.kind === kind);
}
