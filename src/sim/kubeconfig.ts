import path from 'node:path';
import { stringify } from 'yaml';

/** The names the embedded cluster's kubeconfig uses (kind's style: one name for all three). */
export const SIM_CONTEXT = 'replica-demo-sim';

/**
 * A kubeconfig for the daemon: HTTPS on loopback with the daemon's own self-signed
 * certificate as the trusted authority, and a bearer token (kubectl sends tokens only
 * over TLS, so plain HTTP would leave kubectl unauthenticated).
 */
export function renderKubeconfig(server: string, token: string, caPem: string): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    preferences: {},
    'current-context': SIM_CONTEXT,
    clusters: [
      {
        name: SIM_CONTEXT,
        cluster: { server, 'certificate-authority-data': Buffer.from(caPem).toString('base64') },
      },
    ],
    users: [{ name: SIM_CONTEXT, user: { token } }],
    contexts: [{ name: SIM_CONTEXT, context: { cluster: SIM_CONTEXT, user: SIM_CONTEXT } }],
  });
}

/** Where the embedded cluster keeps its files under the tool's home folder. */
export interface SimPaths {
  dir: string;
  state: string;
  kubeconfig: string;
  log: string;
}

export interface SimState {
  pid: number;
  port: number;
  token: string;
  startedAt: string;
  nodes: number;
  server: string;
  /** PEM certificate of the API server (its own authority). */
  ca: string;
}

export function simPaths(home: string): SimPaths {
  const dir = path.join(home, 'sim');
  return {
    dir,
    state: path.join(dir, 'state.json'),
    kubeconfig: path.join(dir, 'kubeconfig'),
    log: path.join(dir, 'daemon.log'),
  };
}
