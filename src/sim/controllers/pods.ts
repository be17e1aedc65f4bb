import type { KubeObject, Store } from '../store.js';
import { admitPod } from '../admission.js';
import { admitPodSpec } from '../defaults.js';
import { recordEvent } from '../events.js';
import { PODS, errorMessage, ownerReference } from './common.js';
import type { PodSpec, PodTemplate } from './types.js';

/** Best-effort QoS class as the API server computes it on pod create. */
function qosClass(spec: PodSpec): string {
  const containers = spec.containers ?? [];
  let any = false;
  let guaranteed = containers.length > 0;
  for (const c of containers) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    if (Object.keys(req).length + Object.keys(lim).length > 0) any = true;
    for (const r of ['cpu', 'memory']) {
      const l = lim[r];
      if (l === undefined || (req[r] !== undefined && req[r] !== l)) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

/**
 * Create one pod from `template` for `owner`, through Pod Security admission like any
 * other pod. A refusal becomes a `FailedCreate` Warning on the owner and `undefined`.
 */
export function createPodFor(
  store: Store,
  owner: KubeObject,
  template: PodTemplate,
  extraLabels: Record<string, string>,
  component: string,
): KubeObject | string {
  const ns = owner.metadata.namespace ?? '';
  let name = `${owner.metadata.name}-${store.randomSuffix()}`;
  // A clash with an existing name is rare; a few tries settle it.
  for (let i = 0; i < 5 && store.get(PODS, ns, name); i += 1) {
    name = `${owner.metadata.name}-${store.randomSuffix()}`;
  }
  const spec = structuredClone(template.spec);
  admitPodSpec(spec, { ...template.metadata?.labels, ...extraLabels });
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      generateName: `${owner.metadata.name}-`,
      namespace: ns,
      labels: { ...template.metadata?.labels, ...extraLabels },
      ...(template.metadata?.annotations
        ? { annotations: { ...template.metadata.annotations } }
        : {}),
      ownerReferences: [ownerReference(owner)],
    },
    spec,
    status: { phase: 'Pending', qosClass: qosClass(spec) },
  };
  try {
    admitPod(store, pod);
    const created = store.create(PODS, pod);
    recordEvent(store, owner, 'Normal', 'SuccessfulCreate', `Created pod: ${name}`, component);
    return created;
  } catch (err) {
    const message = `Error creating: ${errorMessage(err)}`;
    recordEvent(store, owner, 'Warning', 'FailedCreate', message, component);
    return message;
  }
}
