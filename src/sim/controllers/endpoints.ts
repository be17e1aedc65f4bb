import type { KubeObject, Store } from '../store.js';
import { matchesLabels, requirementsFromLabelSelector } from '../selectors.js';
import { ENDPOINTS, PODS, SERVICES, isPodReady, isPodTerminal, keyOf, splitKey } from './common.js';
import { stableJson } from './deployment.js';
import { removeEndpointSlices, syncEndpointSlices } from './endpointslices.js';
import { WorkQueue, type SyncResult } from './queue.js';
import { specOf, statusOf, type PodSpec, type ServicePort, type ServiceSpec } from './types.js';

interface EndpointAddress {
  ip: string;
  nodeName?: string;
  targetRef: { kind: 'Pod'; namespace: string; name: string; uid: string };
}

interface EndpointPort {
  name?: string;
  port: number;
  protocol: string;
}

export interface EndpointSubset {
  addresses?: EndpointAddress[];
  notReadyAddresses?: EndpointAddress[];
  ports: EndpointPort[];
}

/** The container port a Service port's targetPort means for this pod (names resolved per pod). */
function targetPortFor(svcPort: ServicePort, pod: KubeObject): number | undefined {
  const target = svcPort.targetPort ?? svcPort.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  for (const c of specOf<PodSpec>(pod).containers ?? []) {
    const p = c.ports?.find(
      (x) => x.name === target && (x.protocol ?? 'TCP') === (svcPort.protocol ?? 'TCP'),
    );
    if (p) return p.containerPort;
  }
  return undefined;
}

/**
 * The Endpoints of a Service as the real controller computes them: pods matching the
 * selector with an IP, ready ones in `addresses`, the others in `notReadyAddresses`,
 * grouped into subsets by their resolved ports. Terminating pods are left out.
 */
export function endpointSubsets(service: KubeObject, pods: KubeObject[]): EndpointSubset[] {
  const spec = specOf<ServiceSpec>(service);
  const selector = requirementsFromLabelSelector({ matchLabels: spec.selector ?? {} });
  const groups = new Map<string, EndpointSubset>();
  for (const pod of pods) {
    if (pod.metadata.namespace !== service.metadata.namespace) continue;
    if (!matchesLabels(selector, pod.metadata.labels)) continue;
    if (pod.metadata.deletionTimestamp && !spec.publishNotReadyAddresses) continue;
    if (isPodTerminal(pod)) continue;
    const ip = statusOf<{ podIP: string }>(pod).podIP;
    if (!ip) continue;
    const ports: EndpointPort[] = [];
    for (const p of spec.ports ?? []) {
      const port = targetPortFor(p, pod);
      if (port === undefined) continue;
      ports.push({ ...(p.name ? { name: p.name } : {}), port, protocol: p.protocol ?? 'TCP' });
    }
    if (ports.length === 0 && (spec.ports ?? []).length > 0) continue;
    const key = stableJson(ports);
    let subset = groups.get(key);
    if (!subset) {
      subset = { ports };
      groups.set(key, subset);
    }
    const address: EndpointAddress = {
      ip,
      ...(specOf<PodSpec>(pod).nodeName ? { nodeName: specOf<PodSpec>(pod).nodeName } : {}),
      targetRef: {
        kind: 'Pod',
        namespace: pod.metadata.namespace ?? '',
        name: pod.metadata.name,
        uid: pod.metadata.uid,
      },
    };
    const ready = isPodReady(pod) || spec.publishNotReadyAddresses === true;
    const list = ready ? (subset.addresses ??= []) : (subset.notReadyAddresses ??= []);
    list.push(address);
  }
  const byIp = (a: EndpointAddress, b: EndpointAddress) =>
    a.ip.localeCompare(b.ip, 'en', { numeric: true });
  const subsets = [...groups.values()];
  for (const s of subsets) {
    s.addresses?.sort(byIp);
    s.notReadyAddresses?.sort(byIp);
    s.ports.sort((a, b) => (a.name ?? '').localeCompare(b.name ?? ''));
  }
  return subsets.sort((a, b) => stableJson(a.ports).localeCompare(stableJson(b.ports)));
}

/** Service selector -> Endpoints object of the same name, and its EndpointSlices. */
export class EndpointsController {
  private readonly queue: WorkQueue;
  private readonly unwatch: (() => void)[] = [];

  constructor(
    private readonly store: Store,
    log: (message: string) => void,
  ) {
    this.queue = new WorkQueue('endpoints', (key) => this.sync(key), log);
  }

  start(): void {
    this.unwatch.push(
      this.store.watch(SERVICES, {}, (e) => this.queue.add(keyOf(e.object))),
      this.store.watch(PODS, {}, (e) => {
        const ns = e.object.metadata.namespace ?? '';
        for (const svc of this.store.list(SERVICES, { namespace: ns }).items) {
          const selector = specOf<ServiceSpec>(svc).selector;
          if (!selector) continue;
          if (
            matchesLabels(
              requirementsFromLabelSelector({ matchLabels: selector }),
              e.object.metadata.labels,
            )
          ) {
            this.queue.add(keyOf(svc));
          }
        }
      }),
    );
  }

  async stop(): Promise<void> {
    for (const u of this.unwatch.splice(0)) u();
    await this.queue.stop();
  }

  private sync(key: string): SyncResult {
    const [ns, name] = splitKey(key);
    const svc = this.store.get(SERVICES, ns, name);
    const existing = this.store.get(ENDPOINTS, ns, name);
    if (!svc) {
      // The real controllers remove the Endpoints and EndpointSlices of a deleted Service.
      if (existing) this.store.remove(ENDPOINTS, ns, name);
      removeEndpointSlices(this.store, ns, name);
      return;
    }
    const spec = specOf<ServiceSpec>(svc);
    // Without a selector the Endpoints are the user's to manage.
    if (!spec.selector) return;
    const pods = this.store.list(PODS, { namespace: ns }).items;
    syncEndpointSlices(this.store, svc, pods);
    const subsets = endpointSubsets(svc, pods);
    const labels = { ...svc.metadata.labels };
    if (spec.clusterIP === 'None') labels['service.kubernetes.io/headless'] = '';
    if (!existing) {
      this.store.create(ENDPOINTS, {
        apiVersion: 'v1',
        kind: 'Endpoints',
        metadata: {
          name,
          namespace: ns,
          labels,
          annotations: {
            'endpoints.kubernetes.io/last-change-trigger-time': this.store.timestamp(),
          },
        },
        ...(subsets.length > 0 ? { subsets } : {}),
      });
      return;
    }
    if (
      stableJson(existing.subsets ?? []) === stableJson(subsets) &&
      stableJson(existing.metadata.labels ?? {}) === stableJson(labels)
    ) {
      return;
    }
    this.store.update(ENDPOINTS, ns, name, (o) => {
      o.metadata.labels = labels;
      o.metadata.annotations = {
        ...o.metadata.annotations,
        'endpoints.kubernetes.io/last-change-trigger-time': this.store.timestamp(),
      };
      if (subsets.length > 0) o.subsets = subsets;
      else delete o.subsets;
    });
  }
}
