import { RESOURCE_TYPES, type ResourceType } from './resources.js';
import type { KubeObject, NewObject, Store } from './store.js';
import { ApiError } from './api/status.js';
import { DEFAULT_ADDRESS_OCTET, SERVICE_THIRD_OCTET } from './address-block.js';
import { defaultSecret } from './secrets.js';

/**
 * Defaulting and validation the real API server applies on create and update, for the
 * fields the lesson's objects use. Validation failures are 422 Invalid with `causes`,
 * worded like the real ones so kubectl prints the same lines.
 */

type Obj = Record<string, unknown>;

interface Cause {
  reason:
    | 'FieldValueInvalid'
    | 'FieldValueRequired'
    | 'FieldValueNotSupported'
    | 'FieldValueTooLong'
    | 'FieldValueForbidden';
  message: string;
  field: string;
}

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

function nameCause(name: string, rule: 'subdomain' | 'label' | 'dns1035'): Cause | undefined {
  if (rule === 'subdomain') {
    if (name.length <= 253 && DNS1123_SUBDOMAIN.test(name)) return undefined;
    return {
      reason: 'FieldValueInvalid',
      field: 'metadata.name',
      message: `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
    };
  }
  if (rule === 'label') {
    if (name.length <= 63 && DNS1123_LABEL.test(name)) return undefined;
    return {
      reason: 'FieldValueInvalid',
      field: 'metadata.name',
      message: `Invalid value: "${name}": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')`,
    };
  }
  if (name.length <= 63 && DNS1035_LABEL.test(name)) return undefined;
  return {
    reason: 'FieldValueInvalid',
    field: 'metadata.name',
    message: `Invalid value: "${name}": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`,
  };
}

function nameRule(type: ResourceType): 'subdomain' | 'label' | 'dns1035' {
  if (type.plural === 'namespaces') return 'label';
  if (type.plural === 'services') return 'dns1035';
  return 'subdomain';
}

function invalid(type: ResourceType, name: string, causes: Cause[]): ApiError {
  const qualified = type.group ? `${type.kind}.${type.group}` : type.kind;
  const message = `${qualified} "${name}" is invalid: ${causes
    .map((c) => `${c.field}: ${c.message}`)
    .join(', ')}`;
  const details: { name: string; group?: string; kind: string; causes: Cause[] } = {
    name,
    kind: type.kind,
    causes,
  };
  if (type.group) details.group = type.group;
  return new ApiError(422, 'Invalid', message, details);
}

/** The JSON type Go's decoder names in an unmarshal error. */
function goType(value: unknown): string {
  if (typeof value === 'number') return 'number';
  if (Array.isArray(value)) return 'array';
  return typeof value === 'object' ? 'object' : typeof value;
}

function nameOf(meta: Obj, current: KubeObject | undefined): string {
  return typeof meta.name === 'string' ? meta.name : (current?.metadata.name ?? '');
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function objAt(parent: Obj, key: string): Obj {
  const v = parent[key];
  if (isObj(v)) return v;
  const fresh: Obj = {};
  parent[key] = fresh;
  return fresh;
}

function setDefault(o: Obj, key: string, value: unknown): void {
  if (o[key] === undefined || o[key] === null) o[key] = value;
}

function imageTag(image: string): string | undefined {
  const noDigest = image.split('@')[0] ?? image;
  const lastSlash = noDigest.lastIndexOf('/');
  const colon = noDigest.indexOf(':', lastSlash + 1);
  return colon === -1 ? undefined : noDigest.slice(colon + 1);
}

function defaultContainer(c: Obj): void {
  const image = typeof c.image === 'string' ? c.image : '';
  const tag = imageTag(image);
  setDefault(
    c,
    'imagePullPolicy',
    tag === undefined || tag === 'latest' ? 'Always' : 'IfNotPresent',
  );
  setDefault(c, 'terminationMessagePath', '/dev/termination-log');
  setDefault(c, 'terminationMessagePolicy', 'File');
  setDefault(c, 'resources', {});
  if (Array.isArray(c.env))
    for (const e of c.env)
      if (isObj(e) && isObj(e.valueFrom) && isObj(e.valueFrom.fieldRef))
        setDefault(e.valueFrom.fieldRef, 'apiVersion', 'v1');
  if (Array.isArray(c.ports))
    for (const p of c.ports) if (isObj(p)) setDefault(p, 'protocol', 'TCP');
  for (const probeKey of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
    const probe = c[probeKey];
    if (!isObj(probe)) continue;
    setDefault(probe, 'timeoutSeconds', 1);
    setDefault(probe, 'periodSeconds', 10);
    setDefault(probe, 'successThreshold', 1);
    setDefault(probe, 'failureThreshold', 3);
    if (isObj(probe.httpGet)) setDefault(probe.httpGet, 'scheme', 'HTTP');
    if (isObj(probe.httpGet)) setDefault(probe.httpGet, 'path', '/');
  }
}

function defaultPodSpec(spec: Obj, restartPolicy = 'Always'): void {
  setDefault(spec, 'restartPolicy', restartPolicy);
  setDefault(spec, 'terminationGracePeriodSeconds', 30);
  setDefault(spec, 'dnsPolicy', 'ClusterFirst');
  setDefault(spec, 'schedulerName', 'default-scheduler');
  setDefault(spec, 'enableServiceLinks', true);
  setDefault(spec, 'securityContext', {});
  for (const key of ['containers', 'initContainers']) {
    const list = spec[key];
    if (Array.isArray(list)) for (const c of list) if (isObj(c)) defaultContainer(c);
  }
}

function validatePorts(ports: unknown, at: string, causes: Cause[]): void {
  if (!Array.isArray(ports)) return;
  ports.forEach((p, j) => {
    if (!isObj(p)) return;
    const port = p.containerPort;
    if (typeof port === 'number' && (port < 1 || port > 65535 || !Number.isInteger(port)))
      causes.push({
        reason: 'FieldValueInvalid',
        field: `${at}.ports[${j}].containerPort`,
        message: `Invalid value: ${port}: must be between 1 and 65535, inclusive`,
      });
  });
}

function validatePodSpec(spec: unknown, path: string, causes: Cause[]): void {
  if (!isObj(spec)) {
    causes.push({ reason: 'FieldValueRequired', field: path, message: 'Required value' });
    return;
  }
  const containers = spec.containers;
  if (!Array.isArray(containers) || containers.length === 0) {
    causes.push({
      reason: 'FieldValueRequired',
      field: `${path}.containers`,
      message: 'Required value',
    });
    return;
  }
  const seen = new Set<string>();
  containers.forEach((c, i) => {
    const at = `${path}.containers[${i}]`;
    if (!isObj(c)) return;
    const name = typeof c.name === 'string' ? c.name : '';
    if (name === '')
      causes.push({ reason: 'FieldValueRequired', field: `${at}.name`, message: 'Required value' });
    else if (!DNS1123_LABEL.test(name))
      causes.push({
        reason: 'FieldValueInvalid',
        field: `${at}.name`,
        message: `Invalid value: "${name}": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character`,
      });
    else if (seen.has(name))
      causes.push({
        reason: 'FieldValueInvalid',
        field: `${at}.name`,
        message: `Duplicate value: "${name}"`,
      });
    seen.add(name);
    validatePorts(c.ports, at, causes);
    if (typeof c.image !== 'string' || c.image.trim() === '')
      causes.push({
        reason: 'FieldValueRequired',
        field: `${at}.image`,
        message: 'Required value',
      });
  });
}

function labelsMatch(selector: unknown, labels: unknown): boolean {
  if (!isObj(selector)) return false;
  const want = isObj(selector.matchLabels) ? selector.matchLabels : {};
  const have = isObj(labels) ? labels : {};
  return Object.entries(want).every(([k, v]) => have[k] === v);
}

/**
 * The second octet of Service addresses, per store: the block the cluster's runtime claimed
 * (address-block.ts), so two embedded clusters on one machine never hand out the same
 * clusterIP (their proxies would fight over clusterIP:port). Services take the third octets
 * from SERVICE_THIRD_OCTET up; pods take the ones below.
 */
const serviceAddressOctets = new WeakMap<Store, number>();

export function setServiceAddressOctet(store: Store, octet: number): void {
  serviceAddressOctets.set(store, octet);
}

const SERVICE_ADDRESSES = (256 - SERVICE_THIRD_OCTET) * 250;

function nextClusterIp(store: Store, type: ResourceType): string {
  const used = new Set(
    store
      .list(type)
      .items.map((s) =>
        isObj(s.spec) && typeof s.spec.clusterIP === 'string' ? s.spec.clusterIP : '',
      ),
  );
  const octet = serviceAddressOctets.get(store) ?? DEFAULT_ADDRESS_OCTET;
  for (let n = 0; n < SERVICE_ADDRESSES; n += 1) {
    const ip = `127.${octet}.${SERVICE_THIRD_OCTET + Math.floor(n / 250)}.${2 + (n % 250)}`;
    if (!used.has(ip)) return ip;
  }
  throw new ApiError(
    500,
    'InternalError',
    'Internal error occurred: failed to allocate a serviceIP: range is full',
  );
}

/** Fill what the API server fills and reject what it rejects, before `store.create`. */
export function prepareCreate(store: Store, type: ResourceType, input: NewObject): NewObject {
  const obj: Obj & NewObject = input;
  const meta = objAt(obj, 'metadata');
  const name = typeof meta.name === 'string' ? meta.name : '';
  const causes: Cause[] = [];
  if (name === '' && typeof meta.generateName !== 'string') {
    causes.push({
      reason: 'FieldValueRequired',
      field: 'metadata.name',
      message: 'Required value: name or generateName is required',
    });
  } else if (name !== '') {
    const c = nameCause(name, nameRule(type));
    if (c) causes.push(c);
  }
  defaultAndValidate(store, type, obj, causes, undefined);
  if (causes.length > 0) throw invalid(type, name, causes);
  return obj;
}

/** Defaults again after an update or apply (new containers need theirs); identity is kept. */
export function prepareUpdate(
  store: Store,
  type: ResourceType,
  next: KubeObject,
  current: KubeObject,
): KubeObject {
  const causes: Cause[] = [];
  defaultAndValidate(store, type, next, causes, current);
  if (causes.length > 0) throw invalid(type, current.metadata.name, causes);
  return next;
}

function defaultAndValidate(
  store: Store,
  type: ResourceType,
  obj: Obj,
  causes: Cause[],
  current: KubeObject | undefined,
): void {
  // Every kind has metadata, made here when the body has none.
  const meta = objAt(obj, 'metadata');
  switch (type.plural) {
    case 'namespaces':
      defaultNamespace(obj, meta, current);
      break;
    case 'pods':
      defaultPod(obj, causes, current);
      break;
    case 'deployments':
    case 'replicasets':
      defaultWorkload(type, obj, causes);
      break;
    case 'services':
      defaultService(store, type, obj, causes, current);
      break;
    case 'jobs':
      defaultJob(obj, meta, causes, current);
      break;
    case 'secrets':
      causes.push(...defaultSecret(obj, meta, current));
      break;
    default:
      break;
  }
  validateAnnotationSize(meta, causes);
}

/** The API server's limit on all of an object's annotations together. */
const ANNOTATIONS_MAX_BYTES = 256 * 1024;

function validateAnnotationSize(meta: Obj, causes: Cause[]): void {
  if (!isObj(meta.annotations)) return;
  let size = 0;
  for (const [k, v] of Object.entries(meta.annotations))
    size += Buffer.byteLength(k) + Buffer.byteLength(typeof v === 'string' ? v : String(v));
  if (size > ANNOTATIONS_MAX_BYTES)
    causes.push({
      reason: 'FieldValueTooLong',
      field: 'metadata.annotations',
      message: `Too long: may not be more than ${ANNOTATIONS_MAX_BYTES} bytes`,
    });
}

function defaultNamespace(obj: Obj, meta: Obj, current: KubeObject | undefined): void {
  const labels = objAt(meta, 'labels');
  labels['kubernetes.io/metadata.name'] = nameOf(meta, current);
  const spec = objAt(obj, 'spec');
  setDefault(spec, 'finalizers', ['kubernetes']);
  const status = objAt(obj, 'status');
  setDefault(status, 'phase', 'Active');
}

/**
 * A spread constraint's `matchLabelKeys` become part of its selector when the pod is made
 * (`key In (the pod's value)`), as Kubernetes 1.34 does, so the selector says what it counts.
 */
function mergeMatchLabelKeys(spec: Obj, labels: Record<string, string>): void {
  if (!Array.isArray(spec.topologySpreadConstraints)) return;
  for (const c of spec.topologySpreadConstraints) {
    if (!isObj(c) || !Array.isArray(c.matchLabelKeys) || !isObj(c.labelSelector)) continue;
    const selector = c.labelSelector;
    const expressions = Array.isArray(selector.matchExpressions) ? selector.matchExpressions : [];
    for (const key of c.matchLabelKeys)
      if (typeof key === 'string' && labels[key] !== undefined)
        expressions.push({ key, operator: 'In', values: [labels[key]] });
    if (expressions.length > 0) selector.matchExpressions = expressions;
  }
}

/** What the API server's admission plugins add to every new pod (not to pod templates). */
export function admitPodSpec(spec: Obj, labels: Record<string, string> = {}): void {
  mergeMatchLabelKeys(spec, labels);
  setDefault(spec, 'serviceAccountName', 'default');
  setDefault(spec, 'serviceAccount', spec.serviceAccountName);
  setDefault(spec, 'priority', 0);
  setDefault(spec, 'preemptionPolicy', 'PreemptLowerPriority');
  const tolerations = Array.isArray(spec.tolerations) ? (spec.tolerations as unknown[]) : [];
  for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable'])
    if (!tolerations.some((t) => isObj(t) && t.key === key && t.effect === 'NoExecute'))
      tolerations.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 });
  spec.tolerations = tolerations;
}

function defaultPod(obj: Obj, causes: Cause[], current: KubeObject | undefined): void {
  const spec = obj.spec;
  validatePodSpec(spec, 'spec', causes);
  if (isObj(spec)) defaultPodSpec(spec);
  if (isObj(spec) && !current)
    admitPodSpec(spec, (objAt(obj, 'metadata').labels ?? {}) as Record<string, string>);
  const status = objAt(obj, 'status');
  if (!current) {
    setDefault(status, 'phase', 'Pending');
    setDefault(status, 'qosClass', 'BestEffort');
  }
}

/** Deployments and ReplicaSets: replicas, a selector that matches the template, the template's pod. */
function defaultWorkload(type: ResourceType, obj: Obj, causes: Cause[]): void {
  const spec = objAt(obj, 'spec');
  // What Go's decoder says of a replicas that is no int32, before any validation.
  if (spec.replicas !== undefined && spec.replicas !== null && !Number.isInteger(spec.replicas))
    throw new ApiError(
      400,
      'BadRequest',
      `${type.kind} in version "${type.version}" cannot be handled as a ${type.kind}: json: cannot unmarshal ${goType(spec.replicas)} into Go struct field ${type.kind}Spec.spec.replicas of type int32`,
    );
  setDefault(spec, 'replicas', 1);
  if (type.plural === 'deployments') {
    setDefault(spec, 'strategy', {
      type: 'RollingUpdate',
      rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' },
    });
    setDefault(spec, 'revisionHistoryLimit', 10);
    setDefault(spec, 'progressDeadlineSeconds', 600);
  }
  const template = objAt(spec, 'template');
  const tmeta = objAt(template, 'metadata');
  if (!isObj(spec.selector))
    causes.push({
      reason: 'FieldValueRequired',
      field: 'spec.selector',
      message: 'Required value',
    });
  else if (!labelsMatch(spec.selector, tmeta.labels))
    causes.push({
      reason: 'FieldValueInvalid',
      field: 'spec.template.metadata.labels',
      message: `Invalid value: ${JSON.stringify(tmeta.labels ?? {})}: \`selector\` does not match template \`labels\``,
    });
  validatePodSpec(template.spec, 'spec.template.spec', causes);
  if (isObj(template.spec)) defaultPodSpec(template.spec);
  if (typeof spec.replicas === 'number' && spec.replicas < 0)
    causes.push({
      reason: 'FieldValueInvalid',
      field: 'spec.replicas',
      message: `Invalid value: ${spec.replicas}: must be greater than or equal to 0`,
    });
}

function defaultService(
  store: Store,
  type: ResourceType,
  obj: Obj,
  causes: Cause[],
  current: KubeObject | undefined,
): void {
  const spec = objAt(obj, 'spec');
  setDefault(spec, 'type', 'ClusterIP');
  setDefault(spec, 'sessionAffinity', 'None');
  setDefault(spec, 'internalTrafficPolicy', 'Cluster');
  setDefault(spec, 'ipFamilyPolicy', 'SingleStack');
  setDefault(spec, 'ipFamilies', ['IPv4']);
  if (spec.type !== 'ClusterIP')
    causes.push({
      reason: 'FieldValueNotSupported',
      field: 'spec.type',
      message: `Unsupported value: "${String(spec.type)}": the embedded cluster supports only "ClusterIP"`,
    });
  const currentIp = isObj(current?.spec) ? current.spec.clusterIP : undefined;
  if (typeof currentIp === 'string') spec.clusterIP = currentIp;
  else if (spec.clusterIP === undefined || spec.clusterIP === '')
    spec.clusterIP = nextClusterIp(store, type);
  spec.clusterIPs = [spec.clusterIP];
  // As the API server defaults it: ClientIP gets a 3-hour timeout, None carries no config
  // (so patching a Service back to None leaves none behind).
  if (spec.sessionAffinity === 'ClientIP')
    setDefault(spec, 'sessionAffinityConfig', { clientIP: { timeoutSeconds: 10800 } });
  else if (spec.sessionAffinity === 'None') delete spec.sessionAffinityConfig;
  const ports = spec.ports;
  if (!Array.isArray(ports) || ports.length === 0)
    causes.push({
      reason: 'FieldValueRequired',
      field: 'spec.ports',
      message: 'Required value',
    });
  else
    for (const p of ports)
      if (isObj(p)) {
        setDefault(p, 'protocol', 'TCP');
        setDefault(p, 'targetPort', p.port);
        inFieldOrder(p, SERVICE_PORT_FIELDS);
      }
  inFieldOrder(spec, SERVICE_SPEC_FIELDS);
  objAt(obj, 'status').loadBalancer ??= {};
}

/** ServiceSpec's and ServicePort's fields in the order the API server writes them. */
const SERVICE_SPEC_FIELDS = [
  'ports',
  'selector',
  'clusterIP',
  'clusterIPs',
  'type',
  'externalIPs',
  'sessionAffinity',
  'loadBalancerIP',
  'loadBalancerSourceRanges',
  'externalName',
  'externalTrafficPolicy',
  'healthCheckNodePort',
  'publishNotReadyAddresses',
  'sessionAffinityConfig',
  'ipFamilies',
  'ipFamilyPolicy',
  'allocateLoadBalancerNodePorts',
  'loadBalancerClass',
  'internalTrafficPolicy',
  'trafficDistribution',
];
const SERVICE_PORT_FIELDS = ['name', 'protocol', 'appProtocol', 'port', 'targetPort', 'nodePort'];

/**
 * Puts an object's keys in the order given (others after, as they were): the API server
 * writes a type's fields in its declaration order, which `kubectl get --raw` shows.
 */
function inFieldOrder(o: Obj, order: readonly string[]): void {
  const entries = Object.entries(o);
  const rank = (k: string) => {
    const i = order.indexOf(k);
    return i === -1 ? order.length : i;
  };
  entries.sort((a, b) => rank(a[0]) - rank(b[0]));
  for (const [k] of entries) Reflect.deleteProperty(o, k);
  for (const [k, v] of entries) o[k] = v;
}

/** Jobs: completions and back-off, a Never/OnFailure pod, and the selector by the Job's uid. */
function defaultJob(obj: Obj, meta: Obj, causes: Cause[], current: KubeObject | undefined): void {
  const spec = objAt(obj, 'spec');
  setDefault(spec, 'backoffLimit', 6);
  setDefault(spec, 'completions', 1);
  setDefault(spec, 'parallelism', 1);
  setDefault(spec, 'completionMode', 'NonIndexed');
  setDefault(spec, 'suspend', false);
  setDefault(spec, 'manualSelector', false);
  const template = objAt(spec, 'template');
  const tmeta = objAt(template, 'metadata');
  const tspec = template.spec;
  validatePodSpec(tspec, 'spec.template.spec', causes);
  if (isObj(tspec)) {
    const rp = tspec.restartPolicy;
    if (rp !== 'Never' && rp !== 'OnFailure')
      causes.push({
        reason: 'FieldValueNotSupported',
        field: 'spec.template.spec.restartPolicy',
        message: `Unsupported value: "${typeof rp === 'string' ? rp : 'Always'}": supported values: "OnFailure", "Never"`,
      });
    defaultPodSpec(tspec, 'Never');
  }
  const uid =
    current?.metadata.uid ??
    (typeof meta.uid === 'string' ? meta.uid : undefined) ??
    crypto.randomUUID();
  meta.uid = uid;
  const jobName = nameOf(meta, current);
  if (!isObj(spec.selector))
    spec.selector = { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } };
  const labels = objAt(tmeta, 'labels');
  setDefault(labels, 'batch.kubernetes.io/controller-uid', uid);
  setDefault(labels, 'batch.kubernetes.io/job-name', jobName);
  setDefault(labels, 'controller-uid', uid);
  setDefault(labels, 'job-name', jobName);
  const jlabels = objAt(meta, 'labels');
  setDefault(jlabels, 'batch.kubernetes.io/controller-uid', uid);
  setDefault(jlabels, 'batch.kubernetes.io/job-name', jobName);
  setDefault(jlabels, 'controller-uid', uid);
  setDefault(jlabels, 'job-name', jobName);
}

/** The namespaces every cluster starts with. */
export function ensureSystemNamespaces(store: Store): void {
  const type = RESOURCE_TYPES.find((t) => t.plural === 'namespaces');
  if (!type) return;
  for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
    if (!store.get(type, undefined, name))
      store.create(
        type,
        prepareCreate(store, type, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }),
      );
  }
}

/**
 * kube-proxy's configuration where a kubeadm or kind cluster keeps it (ConfigMap kube-proxy
 * in kube-system, key config.conf). The embedded cluster's Service proxy picks a ready pod
 * at random for each new connection, as kube-proxy's iptables mode does, so it says that.
 */
export function ensureProxyConfig(store: Store): void {
  const type = RESOURCE_TYPES.find((t) => t.plural === 'configmaps');
  if (!type || store.get(type, 'kube-system', 'kube-proxy')) return;
  const config = [
    'apiVersion: kubeproxy.config.k8s.io/v1alpha1',
    'kind: KubeProxyConfiguration',
    '# The embedded cluster: its own Service proxy, which picks like iptables mode.',
    'mode: iptables',
    '',
  ].join('\n');
  store.create(
    type,
    prepareCreate(store, type, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'kube-proxy', namespace: 'kube-system', labels: { app: 'kube-proxy' } },
      data: { 'config.conf': config },
    }),
  );
}
