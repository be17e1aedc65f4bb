import { tmpdir } from 'node:os';
import type { KubeObject, Store } from '../store.js';
import { SERVICES, resource } from '../controllers/common.js';
import { specOf, type PodSpec, type ServiceSpec } from '../controllers/types.js';
import {
  ContainerConfigError,
  containerEnv,
  expandReferences,
  serviceLinkVars,
  type KeyRefLookup,
} from './env.js';
import type { ContainerRun } from './container.js';

/**
 * What to run for a container: the embedded cluster runs only the images it knows, as local
 * programs. `multi-replica-app` is our server build on Node.js; `curlimages/curl` is this
 * machine's curl with the container's arguments, Service names mapped to their proxies.
 */

export interface CommandOptions {
  nodeBinary: string;
  serverEntry: string;
  curlBinary: string;
  /** Where a Service port's proxy listens. */
  serviceTarget: (
    ns: string,
    svc: string,
    port: number,
  ) => { host: string; port: number } | undefined;
}

export interface Command {
  file: string;
  args: string[];
  env: Record<string, string>;
}

/**
 * The program, arguments and environment for container `c` of `pod`; throws (for the pod's
 * status to say so) what cannot run here or a reference that does not resolve.
 */
export function buildCommand(
  store: Store,
  opts: CommandOptions,
  where: { pod: KubeObject; spec: PodSpec; podIP: string; hostIP: string },
  c: ContainerRun,
): Command {
  const { pod, podIP } = where;
  const links = serviceVars(store, opts, pod, where.spec.enableServiceLinks);
  const env = containerEnv(pod, c.spec, podIP, where.hostIP, links, keyRefLookup(store, pod));
  const { file, args } = containerCommand(store, opts, pod, podIP, c, env);
  return { file, args, env: processEnv(pod, podIP, c, env) };
}

const CONFIGMAPS = resource('configmaps');
const SECRETS = resource('secrets');

/** ConfigMap data as it is; a Secret's base64 values decoded, as the kubelet reads them. */
function keyRefLookup(store: Store, pod: KubeObject): KeyRefLookup {
  return (kind, name) => {
    const obj = store.get(kind === 'Secret' ? SECRETS : CONFIGMAPS, pod.metadata.namespace, name);
    if (!obj) return undefined;
    const data = (obj as { data?: Record<string, string> }).data ?? {};
    if (kind === 'ConfigMap') return data;
    return Object.fromEntries(
      Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
    );
  };
}

/** The program and arguments for `c`; throws ContainerConfigError for what cannot run here. */
function containerCommand(
  store: Store,
  opts: CommandOptions,
  pod: KubeObject,
  podIP: string,
  c: ContainerRun,
  env: Record<string, string>,
): { file: string; args: string[] } {
  const expand = (list: string[] | undefined) => (list ?? []).map((a) => expandReferences(a, env));
  if (c.kind === 'server') {
    if ((c.spec.command ?? []).length > 0 || (c.spec.args ?? []).length > 0) {
      throw new ContainerConfigError(
        'the embedded cluster runs multi-replica-app images only with their own entrypoint (no command or args)',
      );
    }
    return { file: opts.nodeBinary, args: [opts.serverEntry] };
  }
  // The curl image's entrypoint runs `curl` when the first argument is an option or `curl`.
  let argv = [...expand(c.spec.command), ...expand(c.spec.args)];
  if (argv[0] === 'curl' || argv[0] === '/usr/bin/curl') argv = argv.slice(1);
  else if (argv.length > 0 && !argv[0]?.startsWith('-') && !/^[a-z]+:\/\//i.test(argv[0] ?? '')) {
    throw new ContainerConfigError(
      `the embedded cluster runs curlimages/curl only as curl (command or args must start with curl, an option or a URL), not "${argv[0] ?? ''}"`,
    );
  }
  // -q first: no ~/.curlrc of this machine's user may change what the pod does.
  return {
    file: opts.curlBinary,
    args: ['-q', ...connectTo(store, opts, pod), '--interface', podIP, ...argv],
  };
}

/** Service names (short and qualified) mapped to where their proxies listen. */
function connectTo(store: Store, opts: CommandOptions, pod: KubeObject): string[] {
  const ns = pod.metadata.namespace ?? '';
  const out: string[] = [];
  for (const svc of store.list(SERVICES).items) {
    const spec = specOf<ServiceSpec>(svc);
    const name = svc.metadata.name;
    const sns = svc.metadata.namespace ?? '';
    const names = [`${name}.${sns}`, `${name}.${sns}.svc`, `${name}.${sns}.svc.cluster.local`];
    if (sns === ns) names.unshift(name);
    for (const p of spec.ports ?? []) {
      const target = opts.serviceTarget(sns, name, p.port);
      if (!target) continue;
      for (const n of names)
        out.push('--connect-to', `${n}:${p.port}:${target.host}:${target.port}`);
      if (spec.clusterIP && target.port !== p.port) {
        out.push('--connect-to', `${spec.clusterIP}:${p.port}:${target.host}:${target.port}`);
      }
    }
  }
  return out;
}

/** The `<SVC>_SERVICE_HOST` variables of the pod's namespace, unless service links are off. */
function serviceVars(
  store: Store,
  opts: CommandOptions,
  pod: KubeObject,
  enableServiceLinks: boolean | undefined,
): Record<string, string> {
  if (enableServiceLinks === false) return {};
  const ns = pod.metadata.namespace ?? '';
  const services = store
    .list(SERVICES, { namespace: ns })
    .items.map((s) => {
      const spec = specOf<ServiceSpec>(s);
      return {
        name: s.metadata.name,
        clusterIP: spec.clusterIP ?? '',
        ports: (spec.ports ?? []).map((p) => ({
          ...p,
          port: opts.serviceTarget(ns, s.metadata.name, p.port)?.port ?? p.port,
        })),
      };
    })
    .filter((s) => s.clusterIP !== '' && s.clusterIP !== 'None');
  return serviceLinkVars(services);
}

/** The process environment: a minimal base, the container's variables, and where our server listens. */
function processEnv(
  pod: KubeObject,
  podIP: string,
  c: ContainerRun,
  env: Record<string, string>,
): Record<string, string> {
  const out: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOSTNAME: pod.metadata.name,
    HOME: tmpdir(),
    ...env,
  };
  if (c.kind === 'server') {
    out.HOST = podIP;
    if (env.PORT === undefined) out.PORT = String(c.spec.ports?.[0]?.containerPort ?? 8080);
  }
  return out;
}
