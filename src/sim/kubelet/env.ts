import type { KubeObject } from '../store.js';
import { specOf, type Container, type PodSpec } from '../controllers/types.js';

/** A container whose env cannot be built; the kubelet reports `CreateContainerConfigError`. */
export class ContainerConfigError extends Error {}

/** `$(VAR)` references as the kubelet expands them; `$$` escapes, unknown names stay as written. */
export function expandReferences(text: string, vars: Record<string, string>): string {
  return text.replace(
    /\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g,
    (whole, name: string | undefined) => {
      if (whole === '$$') return '$';
      if (name !== undefined && Object.prototype.hasOwnProperty.call(vars, name))
        return vars[name] ?? '';
      return whole;
    },
  );
}

function fieldValue(pod: KubeObject, path: string, podIP: string, hostIP: string): string {
  const m = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (m) {
    const map = m[1] === 'labels' ? pod.metadata.labels : pod.metadata.annotations;
    return map?.[m[2] ?? ''] ?? '';
  }
  switch (path) {
    case 'metadata.name':
      return pod.metadata.name;
    case 'metadata.namespace':
      return pod.metadata.namespace ?? '';
    case 'metadata.uid':
      return pod.metadata.uid;
    case 'spec.nodeName':
      return specOf<PodSpec>(pod).nodeName ?? '';
    case 'spec.serviceAccountName':
      return specOf<PodSpec>(pod).serviceAccountName ?? 'default';
    case 'status.podIP':
    case 'status.podIPs':
      return podIP;
    case 'status.hostIP':
    case 'status.hostIPs':
      return hostIP;
    default:
      throw new ContainerConfigError(`unsupported fieldRef fieldPath "${path}"`);
  }
}

function resourceValue(container: Container, resource: string): string {
  const [kind, name] = resource.split('.') as [string, string];
  const map = kind === 'limits' ? container.resources?.limits : container.resources?.requests;
  const value = map?.[name];
  if (value !== undefined) {
    if (name === 'cpu') {
      // The divisor defaults to 1 core; the real kubelet rounds up.
      const m = /^(\d+)m$/.exec(value);
      return m ? String(Math.ceil(Number(m[1]) / 1000)) : value;
    }
    return String(parseQuantity(value));
  }
  // No limit set: the node's allocatable, as the real kubelet reports.
  return name === 'cpu' ? '1' : '0';
}

function parseQuantity(q: string): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(q);
  if (!m) return 0;
  const units: Record<string, number> = {
    Ki: 1024,
    Mi: 1024 ** 2,
    Gi: 1024 ** 3,
    Ti: 1024 ** 4,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
  };
  return Math.round(Number(m[1]) * (units[m[2] ?? ''] ?? 1));
}

/**
 * A ConfigMap's `data` or a Secret's decoded `data` in the pod's namespace, by name;
 * undefined when there is no such object.
 */
export type KeyRefLookup = (
  kind: 'ConfigMap' | 'Secret',
  name: string,
) => Record<string, string> | undefined;

type KeyRef = { name: string; key: string; optional?: boolean };

/** A `configMapKeyRef` or `secretKeyRef` value; undefined for an optional one that is missing. */
function keyRefValue(
  pod: KubeObject,
  kind: 'ConfigMap' | 'Secret',
  ref: KeyRef,
  lookup: KeyRefLookup,
): string | undefined {
  const data = lookup(kind, ref.name);
  if (data === undefined) {
    if (ref.optional) return undefined;
    throw new ContainerConfigError(`${kind.toLowerCase()} "${ref.name}" not found`);
  }
  const value = data[ref.key];
  if (value === undefined && !ref.optional)
    throw new ContainerConfigError(
      `couldn't find key ${ref.key} in ${kind} ${pod.metadata.namespace ?? ''}/${ref.name}`,
    );
  return value;
}

/**
 * The container's environment as the kubelet builds it: Service variables first, then the
 * container's own `env` in order (later entries may reference earlier ones with `$(NAME)`).
 */
export function containerEnv(
  pod: KubeObject,
  container: Container,
  podIP: string,
  hostIP: string,
  serviceVars: Record<string, string>,
  lookup: KeyRefLookup,
): Record<string, string> {
  const vars: Record<string, string> = { ...serviceVars };
  for (const e of container.env ?? []) {
    if (e.value !== undefined) {
      vars[e.name] = expandReferences(e.value, vars);
    } else if (e.valueFrom?.fieldRef) {
      vars[e.name] = fieldValue(pod, e.valueFrom.fieldRef.fieldPath, podIP, hostIP);
    } else if (e.valueFrom?.resourceFieldRef) {
      vars[e.name] = resourceValue(container, e.valueFrom.resourceFieldRef.resource);
    } else if (e.valueFrom?.configMapKeyRef || e.valueFrom?.secretKeyRef) {
      const value = e.valueFrom.configMapKeyRef
        ? keyRefValue(pod, 'ConfigMap', e.valueFrom.configMapKeyRef, lookup)
        : keyRefValue(pod, 'Secret', e.valueFrom.secretKeyRef as KeyRef, lookup);
      if (value !== undefined) vars[e.name] = value;
    } else {
      vars[e.name] = '';
    }
  }
  return vars;
}

/** `WEB_SERVER_SERVICE_SERVICE_HOST` and friends, docker-links style, for `enableServiceLinks`. */
export function serviceLinkVars(
  services: {
    name: string;
    clusterIP: string;
    ports: { name?: string; port: number; protocol?: string }[];
  }[],
): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const s of services) {
    const prefix = s.name.toUpperCase().replace(/-/g, '_');
    const first = s.ports[0];
    if (!first) continue;
    vars[`${prefix}_SERVICE_HOST`] = s.clusterIP;
    vars[`${prefix}_SERVICE_PORT`] = String(first.port);
    vars[`${prefix}_PORT`] = `tcp://${s.clusterIP}:${first.port}`;
    for (const p of s.ports) {
      const proto = (p.protocol ?? 'TCP').toLowerCase();
      if (p.name)
        vars[`${prefix}_SERVICE_PORT_${p.name.toUpperCase().replace(/-/g, '_')}`] = String(p.port);
      const base = `${prefix}_PORT_${p.port}_${proto.toUpperCase()}`;
      vars[base] = `${proto}://${s.clusterIP}:${p.port}`;
      vars[`${base}_PROTO`] = proto;
      vars[`${base}_PORT`] = String(p.port);
      vars[`${base}_ADDR`] = s.clusterIP;
    }
  }
  return vars;
}
