import { cpus, release, totalmem } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { KubeObject, Store } from './store.js';
import { NODES } from './controllers/common.js';
import { specOf, type PodSpec } from './controllers/types.js';
import { DEFAULT_ADDRESS_OCTET } from './address-block.js';
import type { INodeStatus } from 'kubernetes-models/v1';

/** The Kubernetes version the simulated kubelets report: the release the API server reports. */
export const KUBELET_VERSION = 'v1.34.4';
export const CONTROL_PLANE_TAINT = 'node-role.kubernetes.io/control-plane';

export { NODES };

/** kind's names: the control plane first, then `worker`, `worker2`, `worker3`... */
export function nodeNames(count: number): string[] {
  const names = ['replica-demo-control-plane'];
  for (let i = 1; i < count; i += 1)
    names.push(i === 1 ? 'replica-demo-worker' : `replica-demo-worker${i}`);
  return names;
}

export function nodeInternalIP(index: number): string {
  return `127.0.0.${2 + index}`;
}

/**
 * Like kind, the control plane keeps its NoSchedule taint only when workers exist; a
 * single-node cluster has to run pods on its control plane.
 */
export function nodeObject(
  name: string,
  index: number,
  count: number,
  now: string,
  addressOctet = DEFAULT_ADDRESS_OCTET,
): KubeObject {
  const controlPlane = index === 0;
  const labels: Record<string, string> = {
    'beta.kubernetes.io/arch': 'amd64',
    'beta.kubernetes.io/os': 'linux',
    'kubernetes.io/arch': 'amd64',
    'kubernetes.io/hostname': name,
    'kubernetes.io/os': 'linux',
  };
  if (controlPlane) {
    labels[CONTROL_PLANE_TAINT] = '';
    labels['node.kubernetes.io/exclude-from-external-load-balancers'] = '';
  }
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      uid: '',
      resourceVersion: '',
      creationTimestamp: now,
      labels,
      annotations: {
        'node.alpha.kubernetes.io/ttl': '0',
        'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
      },
    },
    spec: {
      podCIDR: `127.${addressOctet}.${index}.0/24`,
      podCIDRs: [`127.${addressOctet}.${index}.0/24`],
      providerID: `replica-demo://sim/${name}`,
      ...(controlPlane && count > 1
        ? { taints: [{ key: CONTROL_PLANE_TAINT, effect: 'NoSchedule' }] }
        : {}),
    },
    status: nodeStatus(name, index, now),
  };
}

/** What a kubelet reports of its node: addresses, capacity, healthy conditions and versions. */
function nodeStatus(name: string, index: number, now: string): INodeStatus {
  const cpu = String(Math.max(1, cpus().length));
  const memory = `${Math.floor(totalmem() / 1024)}Ki`;
  const resources = {
    cpu,
    'ephemeral-storage': '102400000Ki',
    'hugepages-1Gi': '0',
    'hugepages-2Mi': '0',
    memory,
    pods: '110',
  };
  const condition = (type: string, status: string, reason: string, message: string) => ({
    type,
    status,
    lastHeartbeatTime: now,
    lastTransitionTime: now,
    reason,
    message,
  });
  return {
    addresses: [
      { type: 'InternalIP', address: nodeInternalIP(index) },
      { type: 'Hostname', address: name },
    ],
    allocatable: resources,
    capacity: resources,
    conditions: [
      condition(
        'MemoryPressure',
        'False',
        'KubeletHasSufficientMemory',
        'kubelet has sufficient memory available',
      ),
      condition(
        'DiskPressure',
        'False',
        'KubeletHasNoDiskPressure',
        'kubelet has no disk pressure',
      ),
      condition(
        'PIDPressure',
        'False',
        'KubeletHasSufficientPID',
        'kubelet has sufficient PID available',
      ),
      condition('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
    nodeInfo: {
      architecture: 'amd64',
      bootID: randomUUID(),
      containerRuntimeVersion: 'replica-demo-sim://0.1.0',
      kernelVersion: release(),
      kubeProxyVersion: KUBELET_VERSION,
      kubeletVersion: KUBELET_VERSION,
      machineID: randomUUID().replace(/-/g, ''),
      operatingSystem: 'linux',
      osImage: 'replica-demo embedded cluster',
      systemUUID: randomUUID(),
    },
  };
}

/** Create (or refresh) the Node objects; returns their names in index order. */
export function registerNodes(
  store: Store,
  count: number,
  addressOctet = DEFAULT_ADDRESS_OCTET,
): string[] {
  const names = nodeNames(count);
  const now = store.timestamp();
  names.forEach((name, index) => {
    const node = nodeObject(name, index, count, now, addressOctet);
    if (store.get(NODES, undefined, name)) {
      store.update(NODES, undefined, name, (o) => {
        o.metadata.labels = node.metadata.labels;
        o.spec = node.spec as unknown;
        o.status = node.status as unknown;
      });
    } else {
      store.create(NODES, node);
    }
  });
  return names;
}

/** Whether `pod` may run on `node` given the node's NoSchedule/NoExecute taints. */
export function toleratesTaints(pod: KubeObject, node: KubeObject): boolean {
  const taints =
    specOf<{ taints?: { key: string; value?: string; effect: string }[] }>(node).taints ?? [];
  const tolerations = specOf<PodSpec>(pod).tolerations ?? [];
  return taints
    .filter((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute')
    .every((t) =>
      tolerations.some((tol) => {
        if (tol.effect && tol.effect !== t.effect) return false;
        if (tol.operator === 'Exists')
          return tol.key === undefined || tol.key === '' || tol.key === t.key;
        return tol.key === t.key && (tol.value ?? '') === (t.value ?? '');
      }),
    );
}
