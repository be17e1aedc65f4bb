import os from 'node:os';

/** Who this replica is, as the lesson shows it: fixed for the life of the process. */
export interface Identity {
  readonly podName: string;
  readonly podIp: string;
  readonly nodeName: string;
  /** null outside Kubernetes: there is no namespace to report. */
  readonly namespace: string | null;
  readonly hostname: string;
  readonly replicaId: string;
}

/**
 * The replica id is the last dash-separated segment of the pod name, the part the
 * ReplicaSet makes unique (`web-server-deployment-6d4cf56db6-aaaaa` -> `aaaaa`).
 */
export function replicaIdOf(podName: string): string {
  const segments = podName.split('-').filter((segment) => segment !== '');
  return segments.at(-1) ?? podName;
}

/** The first IPv4 address that leaves the machine, or loopback when there is none. */
export function firstExternalIpv4(
  interfaces: NodeJS.Dict<os.NetworkInterfaceInfo[]> = os.networkInterfaces(),
): string {
  for (const addresses of Object.values(interfaces)) {
    for (const address of addresses ?? []) {
      if (address.family === 'IPv4' && !address.internal) return address.address;
    }
  }
  return '127.0.0.1';
}

export interface IdentitySources {
  env?: NodeJS.ProcessEnv;
  hostname?: string;
  interfaces?: NodeJS.Dict<os.NetworkInterfaceInfo[]>;
}

/**
 * Inside Kubernetes the downward API hands us the pod's identity through env; outside it
 * (docker run, a laptop) the hostname and the machine's address stand in, so the server
 * still says something true about where it runs.
 */
export function resolveIdentity(sources: IdentitySources = {}): Identity {
  const env = sources.env ?? process.env;
  const fromEnv = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  // A container runtime sets HOSTNAME to the pod's hostname, as the kernel's is in the pod;
  // the embedded cluster, whose pods share the machine's kernel, sets only the variable.
  const hostname = fromEnv('HOSTNAME') ?? sources.hostname ?? os.hostname();
  const podName = fromEnv('POD_NAME') ?? hostname;
  return {
    podName,
    podIp: fromEnv('POD_IP') ?? firstExternalIpv4(sources.interfaces),
    nodeName: fromEnv('NODE_NAME') ?? hostname,
    namespace: fromEnv('POD_NAMESPACE') ?? null,
    hostname,
    replicaId: replicaIdOf(podName),
  };
}
