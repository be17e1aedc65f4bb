import type { Case } from './runner.js';
import { NS } from './target.js';
import { items, json, names, path, sortedLines, watchEvents } from './views.js';

/**
 * What a learner reads: get, describe, explain, logs, events, wait, and the raw API (list,
 * watch, pagination, selectors, errors). They run first, on the five replicas as applied.
 */

const n = ['-n', NS];
const DEPLOY = 'deployment/web-server-deployment';
const PODS = `/api/v1/namespaces/${NS}/pods`;
const raw = (url: string) => ['get', '--raw', url];

const getCases: Case[] = [
  { name: 'get namespace', args: ['get', 'namespace', NS] },
  {
    name: 'get namespace labels',
    args: ['get', 'namespace', NS, '-o', 'jsonpath={.metadata.labels}'],
  },
  { name: 'get nodes', args: ['get', 'nodes'] },
  { name: 'get deployment', args: ['get', 'deployment', ...n] },
  { name: 'get deployment wide', args: ['get', 'deployment', '-o', 'wide', ...n] },
  { name: 'get replicaset', args: ['get', 'replicaset', ...n] },
  { name: 'get pods', args: ['get', 'pods', ...n] },
  { name: 'get pods labels', args: ['get', 'pods', '--show-labels', ...n] },
  { name: 'get pods wide', args: ['get', 'pods', '-o', 'wide', ...n] },
  {
    name: 'get pods by selector as names',
    args: ['get', 'pods', '-l', 'app=web-server', '-o', 'name', ...n],
  },
  {
    name: 'get pods set selector',
    args: ['get', 'pods', '-l', 'app in (web-server)', '-o', 'name', ...n],
  },
  { name: 'get pods no match', args: ['get', 'pods', '-l', 'app!=web-server', ...n] },
  {
    name: 'get pods field selector phase',
    args: ['get', 'pods', '--field-selector=status.phase=Running', '-o', 'name', ...n],
  },
  {
    name: 'get pods unknown field selector',
    args: ['get', 'pods', '--field-selector=spec.bogus=1', ...n],
  },
  { name: 'get pods chunked', args: ['get', 'pods', '--chunk-size=2', '-o', 'name', ...n] },
  { name: 'get pods other namespace', args: ['get', 'pods', '-n', 'fid-nowhere'] },
  { name: 'get service', args: ['get', 'service', ...n] },
  { name: 'get service wide', args: ['get', 'service', '-o', 'wide', ...n] },
  { name: 'get service yaml', args: ['get', 'service', 'web-server-service', '-o', 'yaml', ...n] },
  { name: 'get endpoints', args: ['get', 'endpoints', 'web-server-service', ...n] },
  {
    name: 'get endpointslices',
    args: ['get', 'endpointslices', '-l', 'kubernetes.io/service-name=web-server-service', ...n],
  },
  { name: 'get pdb', args: ['get', 'pdb', ...n] },
  {
    name: 'get pdb status',
    args: ['get', 'pdb', 'web-server-pdb', '-o', 'jsonpath={.status}', ...n],
  },
  { name: 'get all', args: ['get', 'all', ...n] },
  { name: 'get deployment yaml', args: ['get', DEPLOY, '-o', 'yaml', ...n] },
  {
    name: 'get deployment status',
    args: ['get', DEPLOY, '-o', 'jsonpath={.status}', ...n],
  },
  {
    name: 'get replicaset annotations',
    args: ['get', 'rs', '-o', 'jsonpath={.items[0].metadata.annotations}', ...n],
  },
  {
    name: 'get pod spec defaults',
    args: [
      'get',
      'pod',
      '{pod}',
      '-o',
      'jsonpath={.spec.dnsPolicy} {.spec.schedulerName} {.spec.serviceAccountName} {.spec.restartPolicy} {.spec.priority} {.spec.preemptionPolicy} {.spec.enableServiceLinks}',
      ...n,
    ],
  },
  {
    name: 'get pod tolerations',
    args: ['get', 'pod', '{pod}', '-o', 'jsonpath={.spec.tolerations}', ...n],
  },
  {
    name: 'get pod container defaults',
    args: [
      'get',
      'pod',
      '{pod}',
      '-o',
      'jsonpath={.spec.containers[0].terminationMessagePath} {.spec.containers[0].terminationMessagePolicy} {.spec.containers[0].readinessProbe}',
      ...n,
    ],
  },
  {
    name: 'get pod conditions',
    args: [
      'get',
      'pod',
      '{pod}',
      '-o',
      'jsonpath={range .status.conditions[*]}{.type}={.status}{"\\n"}{end}',
      ...n,
    ],
    view: sortedLines,
  },
  {
    name: 'get pod status summary',
    args: [
      'get',
      'pod',
      '{pod}',
      '-o',
      'jsonpath={.status.phase} {.status.qosClass} {.status.containerStatuses[0].ready} {.status.containerStatuses[0].started} {.status.containerStatuses[0].restartCount} {.status.containerStatuses[0].image}',
      ...n,
    ],
  },
  {
    name: 'get pod owner',
    args: ['get', 'pod', '{pod}', '-o', 'jsonpath={.metadata.ownerReferences}', ...n],
  },
  {
    name: 'get pods custom columns',
    args: [
      'get',
      'pods',
      '-o',
      'custom-columns=NAME:.metadata.name,READY:.status.containerStatuses[0].ready,PORT:.spec.containers[0].ports[0].containerPort',
      '--sort-by=.metadata.name',
      ...n,
    ],
  },
  {
    name: 'get list kind',
    args: ['get', 'deployments', '-o', 'json', ...n],
    view: json((d) => [d.kind, d.apiVersion, items(d).length]),
  },
  { name: 'get serviceaccounts', args: ['get', 'serviceaccounts', ...n] },
  { name: 'get configmaps', args: ['get', 'configmaps', ...n] },
  { name: 'get unknown resource type', args: ['get', 'fidgets', ...n] },
  { name: 'get missing pod', args: ['get', 'pod', 'fid-nope', ...n] },
  { name: 'get missing deployment', args: ['get', 'deployment', 'fid-nope', ...n] },
];

const describeCases: Case[] = [
  { name: 'describe deployment', args: ['describe', DEPLOY, ...n] },
  { name: 'describe service', args: ['describe', 'service', 'web-server-service', ...n] },
  { name: 'describe namespace', args: ['describe', 'namespace', NS] },
  { name: 'describe pdb', args: ['describe', 'pdb', 'web-server-pdb', ...n] },
  {
    name: 'describe pod',
    args: ['describe', 'pod', '{pod}', ...n],
    // The events section depends on how fast a node started it, on either cluster.
    view: (s) => s.split('\nEvents:')[0] ?? s,
  },
  { name: 'explain deployment.spec.replicas', args: ['explain', 'deployment.spec.replicas'] },
  { name: 'explain pod.spec.containers.ports', args: ['explain', 'pod.spec.containers.ports'] },
  {
    name: 'explain service.spec.sessionAffinity',
    args: ['explain', 'service.spec.sessionAffinity'],
  },
  { name: 'explain unknown field', args: ['explain', 'deployment.spec.replica'] },
  { name: 'api-resources apps', args: ['api-resources', '--api-group=apps'] },
  { name: 'version', args: ['version'] },
  { name: 'auth can-i', args: ['auth', 'can-i', 'create', 'deployments', ...n] },
  { name: 'top pods', args: ['top', 'pods', ...n] },
];

const logCases: Case[] = [
  { name: 'logs pod tail', args: ['logs', '{pod}', '--tail=1', ...n] },
  {
    name: 'logs deployment',
    args: ['logs', DEPLOY, '--tail=1', ...n],
  },
  {
    name: 'logs selector with prefix',
    args: ['logs', '-l', 'app=web-server', '--tail=1', '--prefix', ...n],
    view: sortedLines,
  },
  { name: 'logs unknown container', args: ['logs', '{pod}', '-c', 'fid-nope', ...n] },
  { name: 'logs previous none', args: ['logs', '{pod}', '--previous', ...n] },
  { name: 'logs timestamps', args: ['logs', '{pod}', '--tail=1', '--timestamps', ...n] },
  { name: 'exec', args: ['exec', '{pod}', '-n', NS, '--', 'node', '-e', 'console.log(6*7)'] },
];

const waitCases: Case[] = [
  {
    name: 'wait deployment available',
    args: ['wait', '--for=condition=Available', DEPLOY, '--timeout=30s', ...n],
  },
  {
    name: 'wait pods ready',
    args: ['wait', '--for=condition=Ready', 'pod', '-l', 'app=web-server', '--timeout=60s', ...n],
  },
  {
    name: 'wait jsonpath',
    args: ['wait', '--for=jsonpath={.status.readyReplicas}=5', DEPLOY, '--timeout=30s', ...n],
  },
  {
    name: 'wait times out',
    args: ['wait', '--for=condition=Fidgety', DEPLOY, '--timeout=2s', ...n],
  },
  { name: 'rollout status', args: ['rollout', 'status', DEPLOY, ...n] },
  { name: 'rollout history', args: ['rollout', 'history', DEPLOY, ...n] },
  { name: 'events for deployment', args: ['events', '--for', DEPLOY, ...n] },
  {
    name: 'get events of deployments',
    args: [
      'get',
      'events',
      '--field-selector',
      'involvedObject.kind=Deployment',
      '-o',
      'custom-columns=TYPE:.type,REASON:.reason,OBJECT:.involvedObject.name,COUNT:.count,SOURCE:.source.component',
      ...n,
    ],
  },
  {
    name: 'get events unknown field selector',
    args: ['get', 'events', '--field-selector', 'fidget=1', ...n],
  },
];

const rawCases: Case[] = [
  { name: 'raw version', args: raw('/version'), view: json((d) => [d.major, d.minor]) },
  { name: 'raw healthz', args: raw('/healthz') },
  { name: 'raw readyz', args: raw('/readyz') },
  { name: 'raw livez', args: raw('/livez') },
  { name: 'raw core discovery', args: raw('/api'), view: json((d) => [d.kind, d.versions]) },
  {
    name: 'raw groups',
    args: raw('/apis'),
    view: json((d) =>
      names(d.groups).filter((g) =>
        ['apps', 'batch', 'policy', 'discovery.k8s.io', 'events.k8s.io'].includes(g),
      ),
    ),
  },
  {
    name: 'raw apps resources',
    args: raw('/apis/apps/v1'),
    view: json((d) =>
      (d.resources as { name: string; verbs: string[] }[])
        .filter((r) => r.name.startsWith('deployments') || r.name.startsWith('replicasets'))
        .map((r) => `${r.name}: ${[...r.verbs].sort().join(',')}`)
        .sort(),
    ),
  },
  {
    name: 'raw openapi index',
    args: raw('/openapi/v3'),
    view: json((d) =>
      ['api/v1', 'apis/apps/v1', 'apis/batch/v1', 'apis/policy/v1', 'apis/discovery.k8s.io/v1'].map(
        (p) => `${p}: ${String(path(d, 'paths', p) !== undefined)}`,
      ),
    ),
  },
  {
    name: 'raw list by label',
    args: raw(`${PODS}?labelSelector=app%3Dweb-server`),
    view: json((d) => [d.kind, d.apiVersion, items(d).length]),
  },
  {
    name: 'raw list first page',
    args: raw(`${PODS}?limit=2`),
    view: json((d) => [
      items(d).length,
      typeof path(d, 'metadata', 'continue'),
      path(d, 'metadata', 'remainingItemCount'),
    ]),
  },
  { name: 'raw list bad continue', args: raw(`${PODS}?limit=2&continue=fidget`) },
  {
    name: 'raw list field and label selector',
    args: raw(`${PODS}?labelSelector=app%3Dweb-server&fieldSelector=status.phase%3DRunning`),
    view: json((d) => items(d).length),
  },
  {
    name: 'raw list all namespaces by field',
    args: raw(`/api/v1/pods?fieldSelector=metadata.namespace%3D${NS}`),
    view: json((d) => items(d).length),
  },
  {
    name: 'raw list field selector no match',
    args: raw(`${PODS}?fieldSelector=metadata.name%3Dfid-nope`),
    view: json((d) => [d.kind, items(d).length]),
  },
  { name: 'raw list unknown field selector', args: raw(`${PODS}?fieldSelector=spec.bogus%3D1`) },
  { name: 'raw list bad label selector', args: raw(`${PODS}?labelSelector=app%3D%3D%3Dx`) },
  {
    name: 'raw list from cache',
    args: raw(`${PODS}?resourceVersion=0`),
    view: json((d) => items(d).length),
  },
  { name: 'raw get missing', args: raw(`${PODS}/fid-nope`) },
  { name: 'raw unknown group', args: raw('/apis/fidgets.example.com/v1') },
  {
    name: 'raw watch',
    args: raw(`${PODS}?watch=true&timeoutSeconds=2&labelSelector=app%3Dweb-server`),
    view: watchEvents,
  },
  {
    name: 'raw watch too old',
    args: raw(`${PODS}?watch=true&timeoutSeconds=2&resourceVersion=1`),
    view: watchEvents,
  },
  {
    name: 'raw watch future',
    args: raw(`${PODS}?watch=true&timeoutSeconds=2&resourceVersion=9999999999`),
    view: watchEvents,
  },
  {
    name: 'raw service',
    args: raw(`/api/v1/namespaces/${NS}/services/web-server-service`),
    view: json((d) => d.spec),
  },
  {
    name: 'raw endpoints',
    args: raw(`/api/v1/namespaces/${NS}/endpoints/web-server-service`),
    view: json((d) => {
      const subsets = (d.subsets as { addresses?: unknown[]; ports?: unknown }[] | undefined) ?? [];
      return subsets.map((s) => [s.addresses?.length, s.ports]);
    }),
  },
  {
    name: 'raw endpointslices',
    args: raw(
      `/apis/discovery.k8s.io/v1/namespaces/${NS}/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dweb-server-service`,
    ),
    view: json((d) =>
      items(d).map((s) => [
        s.addressType,
        (s.endpoints as unknown[] | undefined)?.length,
        s.ports,
        path(s, 'metadata', 'labels', 'endpointslice.kubernetes.io/managed-by'),
      ]),
    ),
  },
  {
    name: 'raw pod log',
    args: raw(`${PODS}/{pod}/log?tailLines=1`),
  },
];

export const readCases: Case[] = [
  ...getCases,
  ...describeCases,
  ...logCases,
  ...waitCases,
  ...rawCases,
  { name: 'cluster-info', args: ['cluster-info'] },
];
