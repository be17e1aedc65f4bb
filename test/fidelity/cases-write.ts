import YAML from 'yaml';
import type { Case } from './runner.js';
import { IMAGE, IMAGE2, manifestText, NS } from './target.js';
import { lastLine } from './views.js';

/**
 * What a learner changes: label, patch, apply, diff, scale, set, rollout, delete, evict,
 * port-forward, cordon, drain, create and run. In order: each leaves the lesson's objects as
 * the next case expects, and removes what it made.
 */

const n = ['-n', NS];
const DEPLOY = 'deployment/web-server-deployment';

interface FidDoc {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string };
  spec: {
    replicas: unknown;
    replica?: unknown;
    selector: { matchLabels: { app: string } };
    template: {
      metadata: { labels: { app: string } };
      spec: { containers: { name: string; image: string; ports: { containerPort: number }[] }[] };
    };
  };
}

/** A small Deployment of the suite's own, changed by `edit` (the invalid ones). */
function fidDeployment(edit: (d: FidDoc) => void = () => undefined): string {
  const d: FidDoc = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'fid-bad', namespace: NS },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'fid-bad' } },
      template: {
        metadata: { labels: { app: 'fid-bad' } },
        spec: { containers: [{ name: 'web', image: IMAGE, ports: [{ containerPort: 8080 }] }] },
      },
    },
  };
  edit(d);
  return YAML.stringify(d);
}

const deployment = (edit?: (d: Record<string, unknown>) => void) =>
  manifestText(['Deployment'], edit);

const labelCases: Case[] = [
  { name: 'label pod', args: ['label', 'pod', '{pod}', 'fid=yes', ...n] },
  { name: 'get by new label', args: ['get', 'pods', '-l', 'fid=yes', '-o', 'name', ...n] },
  { name: 'label without overwrite', args: ['label', 'pods', '-l', 'fid=yes', 'fid=no', ...n] },
  { name: 'unlabel pod', args: ['label', 'pods', '-l', 'fid=yes', 'fid-', ...n] },
  { name: 'annotate deployment', args: ['annotate', DEPLOY, 'fid/note=hello', ...n] },
  {
    name: 'generation after metadata changes',
    args: ['get', DEPLOY, '-o', 'jsonpath={.metadata.generation}', ...n],
  },
];

const patchCases: Case[] = [
  {
    name: 'patch strategic',
    args: ['patch', DEPLOY, '-p', '{"spec":{"revisionHistoryLimit":4}}', ...n],
  },
  {
    name: 'patch no change',
    args: ['patch', DEPLOY, '-p', '{"spec":{"revisionHistoryLimit":4}}', ...n],
  },
  {
    name: 'patch json',
    args: [
      'patch',
      DEPLOY,
      '--type=json',
      '-p',
      '[{"op":"replace","path":"/spec/revisionHistoryLimit","value":3}]',
      ...n,
    ],
  },
  {
    name: 'patch json bad path',
    args: [
      'patch',
      DEPLOY,
      '--type=json',
      '-p',
      '[{"op":"replace","path":"/spec/fidget","value":3}]',
      ...n,
    ],
  },
  {
    name: 'patch merge annotation',
    args: ['patch', DEPLOY, '--type=merge', '-p', '{"metadata":{"annotations":{"fid":"x"}}}', ...n],
  },
  { name: 'patch missing', args: ['patch', 'deployment', 'fid-nope', '-p', '{}', ...n] },
  {
    name: 'patch strategic list merge dry run',
    args: [
      'patch',
      DEPLOY,
      '--dry-run=server',
      '-p',
      '{"spec":{"template":{"spec":{"containers":[{"name":"web","env":[{"name":"FID","value":"1"}]}]}}}}',
      '-o',
      'jsonpath={.spec.template.spec.containers[0].env[*].name}',
      ...n,
    ],
  },
  {
    name: 'set env dry run',
    args: [
      'set',
      'env',
      DEPLOY,
      'FID=2',
      '--dry-run=server',
      '-o',
      'jsonpath={.spec.template.spec.containers[0].env[4]}',
      ...n,
    ],
  },
  {
    name: 'set resources dry run',
    args: [
      'set',
      'resources',
      DEPLOY,
      '--limits=cpu=400m',
      '--dry-run=server',
      '-o',
      'jsonpath={.spec.template.spec.containers[0].resources}',
      ...n,
    ],
  },
  {
    name: 'generation after spec changes',
    args: ['get', DEPLOY, '-o', 'jsonpath={.metadata.generation}', ...n],
  },
];

const applyCases: Case[] = [
  {
    name: 'apply server-side again',
    args: ['apply', '--server-side', '-f', '-'],
    stdin: deployment(),
  },
  {
    name: 'apply server-side conflict',
    args: ['apply', '--server-side', '--field-manager=fid-other', '-f', '-'],
    stdin: deployment((d) => ((d.spec as { replicas: number }).replicas = 3)),
  },
  { name: 'apply client-side after server-side', args: ['apply', '-f', '-'], stdin: deployment() },
  { name: 'diff unchanged', args: ['diff', '-f', '-'], stdin: deployment() },
  {
    name: 'diff changed',
    args: ['diff', '-f', '-'],
    stdin: deployment((d) => ((d.spec as { replicas: number }).replicas = 4)),
  },
  {
    name: 'apply dry run',
    args: ['apply', '--dry-run=server', '-f', '-'],
    stdin: fidDeployment(),
  },
  {
    name: 'apply string replicas',
    args: ['apply', '-f', '-'],
    stdin: fidDeployment((d) => (d.spec.replicas = 'five')),
    after: [{ args: ['delete', 'deployment', 'fid-bad', '--ignore-not-found', ...n] }],
  },
  {
    name: 'apply unknown field',
    args: ['apply', '-f', '-'],
    stdin: fidDeployment((d) => (d.spec.replica = 2)),
    after: [{ args: ['delete', 'deployment', 'fid-bad', '--ignore-not-found', ...n] }],
  },
  {
    name: 'apply port out of range',
    args: ['apply', '-f', '-'],
    stdin: fidDeployment(
      (d) => (d.spec.template.spec.containers[0]!.ports[0]!.containerPort = 99999),
    ),
    after: [{ args: ['delete', 'deployment', 'fid-bad', '--ignore-not-found', ...n] }],
  },
  {
    name: 'apply selector mismatch',
    args: ['apply', '-f', '-'],
    stdin: fidDeployment((d) => (d.spec.selector.matchLabels.app = 'fid-other')),
    after: [{ args: ['delete', 'deployment', 'fid-bad', '--ignore-not-found', ...n] }],
  },
  {
    name: 'apply bad name',
    args: ['apply', '-f', '-'],
    stdin: fidDeployment((d) => (d.metadata.name = 'Fid_Bad')),
  },
  {
    name: 'apply oversized annotation',
    args: ['apply', '-f', '-'],
    stdin: YAML.stringify({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'fid-big', namespace: NS, annotations: { big: 'x'.repeat(300_000) } },
    }),
    after: [{ args: ['delete', 'configmap', 'fid-big', '--ignore-not-found', ...n] }],
  },
  {
    name: 'create existing',
    args: ['create', '-f', '-'],
    stdin: deployment(),
  },
];

/** The ReplicaSets with their desired count, image and revision, oldest revision first. */
const REPLICASETS_BY_REVISION = [
  'get',
  'rs',
  '-l',
  'app=web-server',
  '-o',
  'custom-columns=NAME:.metadata.name,DESIRED:.spec.replicas,IMAGE:.spec.template.spec.containers[0].image,REV:.metadata.annotations.deployment\\.kubernetes\\.io/revision',
  '--sort-by=.metadata.annotations.deployment\\.kubernetes\\.io/revision',
  ...n,
];
const rolloutCases: Case[] = [
  { name: 'scale', args: ['scale', DEPLOY, '--replicas=2', ...n] },
  {
    name: 'wait for scale',
    args: ['wait', '--for=jsonpath={.status.replicas}=2', DEPLOY, '--timeout=60s', ...n],
  },
  { name: 'get deployment after scale', args: ['get', DEPLOY, ...n] },
  { name: 'scale missing', args: ['scale', 'deployment/fid-nope', '--replicas=2', ...n] },
  { name: 'set image', args: ['set', 'image', DEPLOY, `web=${IMAGE2}`, ...n] },
  {
    name: 'rollout status after set image',
    args: ['rollout', 'status', DEPLOY, '--timeout=240s', ...n],
    view: lastLine,
  },
  { name: 'rollout history two', args: ['rollout', 'history', DEPLOY, ...n] },
  {
    name: 'replicasets by revision',
    args: REPLICASETS_BY_REVISION,
  },
  { name: 'rollout undo', args: ['rollout', 'undo', DEPLOY, ...n] },
  {
    name: 'rollout status after undo',
    args: ['rollout', 'status', DEPLOY, '--timeout=240s', ...n],
    view: lastLine,
  },
  { name: 'rollout history after undo', args: ['rollout', 'history', DEPLOY, ...n] },
  {
    name: 'replicasets after undo',
    args: REPLICASETS_BY_REVISION,
  },
  {
    name: 'rollout undo missing revision',
    args: ['rollout', 'undo', DEPLOY, '--to-revision=99', ...n],
  },
  { name: 'rollout pause', args: ['rollout', 'pause', DEPLOY, ...n] },
  { name: 'rollout resume', args: ['rollout', 'resume', DEPLOY, ...n] },
];

const podCases: Case[] = [
  {
    name: 'evict pod',
    args: ['create', '--raw', `/api/v1/namespaces/${NS}/pods/{pod}/eviction`, '-f', '-'],
    stdin: JSON.stringify({
      apiVersion: 'policy/v1',
      kind: 'Eviction',
      metadata: { name: '{pod}', namespace: NS },
    }),
    after: [{ args: ['rollout', 'status', DEPLOY, '--timeout=120s', ...n] }],
  },
  {
    name: 'delete pod',
    args: ['delete', 'pod', '{pod}', '--wait=false', ...n],
    after: [{ args: ['rollout', 'status', DEPLOY, '--timeout=120s', ...n] }],
  },
  { name: 'delete missing pod', args: ['delete', 'pod', 'fid-nope', ...n] },
  {
    name: 'port-forward service',
    args: ['port-forward', '-n', NS, 'svc/web-server-service', ':80'],
    portForward: true,
    before: [
      {
        args: [
          'wait',
          '--for=condition=Ready',
          'pod',
          '-l',
          'app=web-server',
          '--timeout=60s',
          ...n,
        ],
      },
    ],
  },
  {
    name: 'force delete pod',
    args: ['delete', 'pod', '{pod}', '--force', '--grace-period=0', ...n],
    after: [{ args: ['rollout', 'status', DEPLOY, '--timeout=120s', ...n] }],
  },
];

const nodeCases: Case[] = [
  // Only the control plane, which no workload pod may use anyway: the cluster may be shared.
  { name: 'cordon', args: ['cordon', '{cp}'] },
  { name: 'cordoned node', args: ['get', 'node', '{cp}'] },
  { name: 'uncordon', args: ['uncordon', '{cp}'] },
  {
    name: 'drain',
    args: ['drain', '{cp}', '--pod-selector=app=fid-none', '--ignore-daemonsets', '--timeout=30s'],
    after: [{ args: ['uncordon', '{cp}'] }],
  },
];

const createCases: Case[] = [
  {
    name: 'create configmap',
    args: ['create', 'configmap', 'fid-cm', '--from-literal=greeting=hello', ...n],
  },
  {
    name: 'get configmap data',
    args: ['get', 'configmap', 'fid-cm', '-o', 'jsonpath={.data}', ...n],
  },
  { name: 'delete configmap', args: ['delete', 'configmap', 'fid-cm', ...n] },
  {
    name: 'create service',
    args: ['create', 'service', 'clusterip', 'fid-svc', '--tcp=80:8080', ...n],
    after: [{ args: ['delete', 'service', 'fid-svc', '--ignore-not-found', ...n] }],
  },
  {
    name: 'expose deployment',
    args: ['expose', DEPLOY, '--name=fid-exposed', '--port=8081', '--target-port=8080', ...n],
    after: [{ args: ['delete', 'service', 'fid-exposed', '--ignore-not-found', ...n] }],
  },
  {
    name: 'create secret',
    args: ['create', 'secret', 'generic', 'fid-secret', '--from-literal=a=b', ...n],
    after: [{ args: ['delete', 'secret', 'fid-secret', '--ignore-not-found', ...n] }],
  },
  {
    name: 'create deployment',
    args: ['create', 'deployment', 'fid-dep', `--image=${IMAGE}`, ...n],
    after: [{ args: ['delete', 'deployment', 'fid-dep', '--ignore-not-found', ...n] }],
  },
  {
    name: 'create job',
    args: [
      'create',
      'job',
      'fid-job',
      '--image=curlimages/curl:8.11.1',
      ...n,
      '--',
      'curl',
      '--version',
    ],
    after: [{ args: ['delete', 'job', 'fid-job', '--ignore-not-found', ...n] }],
  },
  {
    name: 'run pod',
    args: ['run', 'fid-run', `--image=${IMAGE}`, '--restart=Never', ...n],
    after: [{ args: ['delete', 'pod', 'fid-run', '--ignore-not-found', ...n] }],
  },
  {
    name: 'create namespace',
    args: ['create', 'namespace', 'fid-extra'],
  },
  { name: 'delete namespace', args: ['delete', 'namespace', 'fid-extra', '--wait=false'] },
];

export const writeCases: Case[] = [
  ...labelCases,
  ...patchCases,
  ...applyCases,
  ...rolloutCases,
  ...podCases,
  ...nodeCases,
  ...createCases,
];
