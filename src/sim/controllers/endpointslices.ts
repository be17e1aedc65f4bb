import type { KubeObject, Store } from '../store.js';
import { matchesLabels, requirementsFromLabelSelector } from '../selectors.js';
import { ENDPOINTSLICES, isPodReady, isPodTerminal } from './common.js';
import { stableJson } from './deployment.js';
import { specOf, statusOf, type PodSpec, type ServicePort, type ServiceSpec } from './types.js';

/**
 * The EndpointSlices of a Service, as the real EndpointSlice controller keeps them: one per
 * set of resolved ports, labelled with the Service's name and owned by it. Unlike Endpoints
 * they hold terminating pods too, marked by their conditions, which is what `kubectl
 * describe service` and kube-proxy read today.
 */

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
const MANAGED_BY = 'endpointslice-controller.k8s.io';

interface SliceEndpoint {
  addresses: string[];
  conditions: { ready: boolean; serving: boolean; terminating: boolean };
  nodeName?: string;
  targetRef: { kind: 'Pod'; namespace: string; name: string; uid: string };
}

interface SlicePort {
  name: string;
  protocol: string;
  port: number;
}

function portsFor(svcPorts: ServicePort[], pod: KubeObject): SlicePort[] {
  const out: SlicePort[] = [];
  for (const p of svcPorts) {
    const target = p.targetPort ?? p.port;
    let port: number | undefined;
    if (typeof target === 'number') port = target;
    else if (/^\d+$/.test(target)) port = Number(target);
    else
      for (const c of specOf<PodSpec>(pod).containers ?? [])
        port ??= c.ports?.find(
          (x) => x.name === target && (x.protocol ?? 'TCP') === (p.protocol ?? 'TCP'),
        )?.containerPort;
    if (port !== undefined) out.push({ name: p.name ?? '', protocol: p.protocol ?? 'TCP', port });
  }
  return out;
}

/** Endpoints grouped by their resolved ports (`stableJson` of the ports is the key). */
export function sliceGroups(
  service: KubeObject,
  pods: KubeObject[],
): Map<string, { ports: SlicePort[]; endpoints: SliceEndpoint[] }> {
  const spec = specOf<ServiceSpec>(service);
  const selector = requirementsFromLabelSelector({ matchLabels: spec.selector ?? {} });
  const groups = new Map<string, { ports: SlicePort[]; endpoints: SliceEndpoint[] }>();
  for (const pod of pods) {
    if (pod.metadata.namespace !== service.metadata.namespace) continue;
    if (!matchesLabels(selector, pod.metadata.labels) || isPodTerminal(pod)) continue;
    const ip = statusOf<{ podIP: string }>(pod).podIP;
    if (!ip) continue;
    const ports = portsFor(spec.ports ?? [], pod);
    if (ports.length === 0 && (spec.ports ?? []).length > 0) continue;
    const key = stableJson(ports);
    const group = groups.get(key) ?? { ports, endpoints: [] };
    groups.set(key, group);
    const terminating = pod.metadata.deletionTimestamp !== undefined;
    const serving = isPodReady(pod);
    const nodeName = specOf<PodSpec>(pod).nodeName;
    group.endpoints.push({
      addresses: [ip],
      conditions: { ready: serving && !terminating, serving, terminating },
      ...(nodeName ? { nodeName } : {}),
      targetRef: {
        kind: 'Pod',
        namespace: pod.metadata.namespace ?? '',
        name: pod.metadata.name,
        uid: pod.metadata.uid,
      },
    });
  }
  for (const g of groups.values())
    g.endpoints.sort((a, b) =>
      (a.addresses[0] ?? '').localeCompare(b.addresses[0] ?? '', 'en', { numeric: true }),
    );
  return groups;
}

/** Makes the Service's slices match its pods: one per port set, extra ones removed. */
export function syncEndpointSlices(store: Store, service: KubeObject, pods: KubeObject[]): void {
  const ns = service.metadata.namespace ?? '';
  const name = service.metadata.name;
  const existing = store
    .list(ENDPOINTSLICES, { namespace: ns, labelSelector: `${SERVICE_NAME_LABEL}=${name}` })
    .items.filter((s) => s.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY);
  const groups = [...sliceGroups(service, pods).values()];
  // A Service with no endpoints still has one empty slice, with its ports unresolved.
  if (groups.length === 0) groups.push({ ports: [], endpoints: [] });
  const labels = {
    ...service.metadata.labels,
    [MANAGED_BY_LABEL]: MANAGED_BY,
    [SERVICE_NAME_LABEL]: name,
  };
  groups.forEach((group, i) => {
    const body = { addressType: 'IPv4', endpoints: group.endpoints, ports: group.ports };
    const slice = existing[i];
    if (!slice) {
      store.create(ENDPOINTSLICES, {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: {
          generateName: `${name}-`,
          namespace: ns,
          labels,
          annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': store.timestamp() },
          ownerReferences: [
            {
              apiVersion: 'v1',
              kind: 'Service',
              name,
              uid: service.metadata.uid,
              controller: true,
              blockOwnerDeletion: true,
            },
          ],
        },
        ...body,
      });
      return;
    }
    const same =
      stableJson({ a: slice.addressType, e: slice.endpoints ?? [], p: slice.ports ?? [] }) ===
        stableJson({ a: body.addressType, e: body.endpoints, p: body.ports }) &&
      stableJson(slice.metadata.labels ?? {}) === stableJson(labels);
    if (same) return;
    store.update(ENDPOINTSLICES, ns, slice.metadata.name, (o) => {
      o.metadata.labels = labels;
      o.addressType = body.addressType;
      o.endpoints = body.endpoints;
      o.ports = body.ports;
    });
  });
  for (const extra of existing.slice(groups.length))
    store.remove(ENDPOINTSLICES, ns, extra.metadata.name);
}

/** The slices of a deleted Service go with it. */
export function removeEndpointSlices(store: Store, namespace: string, service: string): void {
  for (const s of store.list(ENDPOINTSLICES, {
    namespace,
    labelSelector: `${SERVICE_NAME_LABEL}=${service}`,
  }).items)
    if (s.metadata.labels?.[MANAGED_BY_LABEL] === MANAGED_BY)
      store.remove(ENDPOINTSLICES, namespace, s.metadata.name);
}
