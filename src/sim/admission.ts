import { StoreError, type KubeObject, type NewObject, type Store } from './store.js';
import { NAMESPACES } from './controllers/common.js';
import { evaluatePodSecurity, forbiddenPodMessage, podSecurityFromLabels } from './pod-security.js';

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
