import { StoreError, type KubeObject, type NewObject, type Store } from './store.js';
import type { ResourceType } from './resources.js';
import { NAMESPACES, PODS } from './controllers/common.js';
import {
  evaluatePodSecurity,
  forbiddenPodMessage,
  podSecurityFromLabels,
  podSecurityWarning,
} from './pod-security.js';

/**
 * Pod Security admission for one pod: the namespace's `enforce` level decides, as in the
 * real plugin (privileged, baseline and restricted, every version checked as `latest`).
 * Throws 403 Forbidden with the real message; returns quietly when the pod is allowed.
 */
export function admitPod(store: Store, pod: NewObject | KubeObject): void {
  const namespace = pod.metadata.namespace;
  if (!namespace) return;
  const ns = store.get(NAMESPACES, undefined, namespace);
  const { enforce } = podSecurityFromLabels(ns?.metadata.labels);
  if (enforce.level === 'privileged') return;
  const violations = evaluatePodSecurity(enforce.level, pod.spec, pod.metadata);
  if (violations.length === 0) return;
  throw new StoreError(
    403,
    'Forbidden',
    forbiddenPodMessage(pod.metadata.name ?? pod.metadata.generateName ?? '', enforce, violations),
  );
}

const WORKLOADS = new Set(['deployments', 'replicasets', 'jobs']);

/**
 * The Pod Security warning the admission plugin sends with a write (kubectl prints it): for
 * a workload whose pod template the namespace's `enforce` level would refuse, or a pod or
 * template its `warn` level complains about. Undefined when there is nothing to say.
 */
export function podSecurityWarningFor(
  store: Store,
  type: ResourceType,
  obj: KubeObject,
): string | undefined {
  const workload = WORKLOADS.has(type.plural);
  if (type !== PODS && !workload) return undefined;
  const ns = store.get(NAMESPACES, undefined, obj.metadata.namespace ?? '');
  const policies = podSecurityFromLabels(ns?.metadata.labels);
  const template = workload
    ? ((obj.spec ?? {}) as { template?: { spec?: unknown; metadata?: unknown } }).template
    : obj;
  const candidates = workload ? [policies.enforce, policies.warn] : [policies.warn];
  for (const policy of candidates) {
    if (policy.level === 'privileged') continue;
    const violations = evaluatePodSecurity(policy.level, template?.spec, template?.metadata);
    if (violations.length > 0) return podSecurityWarning(policy, violations);
  }
  return undefined;
}
