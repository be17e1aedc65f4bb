import net from 'node:net';
import type { KubeObject, Store } from './store.js';
import { ENDPOINTS, SERVICES } from './controllers/common.js';
import type { EndpointSubset } from './controllers/endpoints.js';
import { specOf, type ServicePort, type ServiceSpec } from './controllers/types.js';
import type { Random } from './random.js';

interface Backend {
  ip: string;
  port: number;
}

interface Listener {
  key: string;
  namespace: string;
  service: string;
  servicePort: ServicePort;
  clusterIP: string;
  server: net.Server;
  /** Where it really listens (the Service port, or an ephemeral one without the privilege). */
  actualPort: number | undefined;
  backends: Backend[];
  affinityMs: number | undefined;
  pinned: Map<string, { backend: Backend; expires: number }>;
  closed: boolean;
}

const DEFAULT_AFFINITY_SECONDS = 10_800;

/**
 * How long an endpoints change takes to reach the proxy. kube-proxy hears of it through the
 * API and then rewrites the node's rules: on the kind cluster here a deleted pod got its last
 * new connection 30 to 50 ms after the deletion.
 */
export const ENDPOINTS_PROPAGATION_MS = 40;

/**
 * kube-proxy in iptables mode, as a user-space stand-in: one TCP listener per Service port
 * on the Service's address; each NEW connection goes to a ready endpoint picked uniformly at
 * random, and stays there for its life (so a kept-alive connection stays on one pod).
 * `sessionAffinity: ClientIP` pins a client address to its first pick for the timeout.
 * With no ready endpoint the connection is reset, as the REJECT rule does. Endpoints
 * changes reach it a moment after they happen (ENDPOINTS_PROPAGATION_MS), as they reach
 * kube-proxy: a pod whose process stops before that still gets new connections, which fail.
 */
export class ServiceProxy {
  private readonly listeners = new Map<string, Listener>();
  private readonly sockets = new Set<net.Socket>();
  private readonly unwatch: (() => void)[] = [];
  /** Endpoints changes on their way to the listeners, by `namespace/name`. */
  private readonly pending = new Map<string, NodeJS.Timeout>();
  private stopped = false;

  constructor(
    private readonly store: Store,
    private readonly random: Random,
    private readonly log: (message: string) => void,
  ) {}

  start(): void {
    this.unwatch.push(
      this.store.watch(SERVICES, {}, (e) => {
        if (e.type === 'DELETED')
          this.reconcile(e.object.metadata.namespace ?? '', e.object.metadata.name, undefined);
        else this.reconcile(e.object.metadata.namespace ?? '', e.object.metadata.name, e.object);
      }),
      this.store.watch(ENDPOINTS, {}, (e) =>
        this.propagate(e.object.metadata.namespace ?? '', e.object.metadata.name),
      ),
    );
  }

  /**
   * Applies the Service's Endpoints as they are ENDPOINTS_PROPAGATION_MS from now: changes
   * in between arrive together, as in one rewrite of kube-proxy's rules.
   */
  private propagate(ns: string, name: string): void {
    const key = `${ns}/${name}`;
    if (this.pending.has(key)) return;
    const timer = setTimeout(() => {
      this.pending.delete(key);
      if (this.stopped) return;
      const endpoints = this.store.get(ENDPOINTS, ns, name);
      for (const l of this.listeners.values()) {
        if (l.namespace === ns && l.service === name) {
          l.backends = endpoints ? backendsFor(endpoints, l.servicePort) : [];
        }
      }
    }, ENDPOINTS_PROPAGATION_MS);
    this.pending.set(key, timer);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const u of this.unwatch.splice(0)) u();
    for (const timer of this.pending.values()) clearTimeout(timer);
    this.pending.clear();
    const closing = [...this.listeners.values()].map((l) => this.close(l));
    this.listeners.clear();
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await Promise.all(closing);
  }

  /** Where connections for `service`'s `port` should go; undefined until it listens. */
  target(
    namespace: string,
    service: string,
    port: number,
  ): { host: string; port: number } | undefined {
    for (const l of this.listeners.values()) {
      if (
        l.namespace === namespace &&
        l.service === service &&
        l.servicePort.port === port &&
        l.actualPort !== undefined
      ) {
        return { host: l.clusterIP, port: l.actualPort };
      }
    }
    return undefined;
  }

  /** Resolves once every current listener is bound (tests wait on it). */
  async settled(): Promise<void> {
    await Promise.all(
      [...this.listeners.values()].map(
        (l) =>
          new Promise<void>((resolve) => {
            if (l.actualPort !== undefined || l.closed) resolve();
            else {
              l.server.once('listening', () => resolve());
              l.server.once('close', () => resolve());
            }
          }),
      ),
    );
  }

  private reconcile(ns: string, name: string, svc: KubeObject | undefined): void {
    if (this.stopped) return;
    const wanted = new Map<
      string,
      { port: ServicePort; clusterIP: string; affinityMs: number | undefined }
    >();
    if (svc) {
      const spec = specOf<ServiceSpec>(svc);
      const ip = spec.clusterIP;
      const affinityMs =
        spec.sessionAffinity === 'ClientIP'
          ? (spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_AFFINITY_SECONDS) *
            1000
          : undefined;
      if (ip && ip !== 'None' && net.isIPv4(ip)) {
        for (const p of spec.ports ?? []) {
          if ((p.protocol ?? 'TCP') !== 'TCP') continue;
          wanted.set(`${ns}/${name}/${ip}/${p.port}/${p.name ?? ''}`, {
            port: p,
            clusterIP: ip,
            affinityMs,
          });
        }
      }
    }
    for (const l of [...this.listeners.values()]) {
      if (l.namespace !== ns || l.service !== name) continue;
      const w = wanted.get(l.key);
      if (!w) {
        this.listeners.delete(l.key);
        void this.close(l);
      } else {
        if (l.affinityMs !== w.affinityMs) l.pinned.clear();
        l.affinityMs = w.affinityMs;
        l.servicePort = w.port;
        wanted.delete(l.key);
      }
    }
    const endpoints = this.store.get(ENDPOINTS, ns, name);
    for (const [key, w] of wanted) {
      const listener: Listener = {
        key,
        namespace: ns,
        service: name,
        servicePort: w.port,
        clusterIP: w.clusterIP,
        server: net.createServer({ allowHalfOpen: true, noDelay: true }),
        actualPort: undefined,
        backends: endpoints ? backendsFor(endpoints, w.port) : [],
        affinityMs: w.affinityMs,
        pinned: new Map(),
        closed: false,
      };
      this.listeners.set(key, listener);
      listener.server.on('connection', (client) => this.forward(listener, client));
      this.listen(listener, w.port.port);
    }
  }

  private listen(l: Listener, port: number): void {
    const onError = (err: NodeJS.ErrnoException): void => {
      if (port !== 0 && (err.code === 'EACCES' || err.code === 'EADDRINUSE')) {
        // Ports below 1024 need privileges, and the port may be held by another listener on
        // the address: an ephemeral port on the same address stands in (serviceTarget says
        // which, and the curl image is pointed at it).
        this.listen(l, 0);
        return;
      }
      this.log(
        `service proxy: cannot listen on ${l.clusterIP} for ${l.namespace}/${l.service}: ${err.message}`,
      );
    };
    l.server.once('error', onError);
    l.server.listen({ host: l.clusterIP, port }, () => {
      l.server.off('error', onError);
      l.server.on('error', (err) =>
        this.log(`service proxy: ${l.namespace}/${l.service}: ${err.message}`),
      );
      const address = l.server.address();
      if (l.closed) {
        // Closed (the Service went away) while the listen was pending.
        l.server.close();
        return;
      }
      l.actualPort = typeof address === 'object' && address ? address.port : undefined;
    });
  }

  private close(l: Listener): Promise<void> {
    l.closed = true;
    l.actualPort = undefined;
    return new Promise((resolve) => {
      if (!l.server.listening) {
        resolve();
        return;
      }
      l.server.close(() => resolve());
    });
  }

  private pick(l: Listener, clientIP: string): Backend | undefined {
    const backends = l.backends;
    if (backends.length === 0) return undefined;
    if (l.affinityMs !== undefined) {
      const now = Date.now();
      const pinned = l.pinned.get(clientIP);
      if (
        pinned &&
        pinned.expires > now &&
        backends.some((b) => b.ip === pinned.backend.ip && b.port === pinned.backend.port)
      ) {
        pinned.expires = now + l.affinityMs;
        return pinned.backend;
      }
      const chosen = backends[Math.floor(this.random() * backends.length)];
      if (chosen) l.pinned.set(clientIP, { backend: chosen, expires: now + l.affinityMs });
      return chosen;
    }
    return backends[Math.floor(this.random() * backends.length)];
  }

  private forward(l: Listener, client: net.Socket): void {
    const clientIP = client.remoteAddress ?? '';
    const backend = this.pick(l, clientIP);
    if (!backend) {
      client.resetAndDestroy();
      return;
    }
    // Unlike kube-proxy's DNAT the pod sees the proxy's address as the source: binding the
    // client's address first costs about 0.2 ms per connection, a fifth of the latency budget.
    const upstream = net.connect({
      host: backend.ip,
      port: backend.port,
      allowHalfOpen: true,
      noDelay: true,
    });
    // Only clients are tracked: closing one takes its upstream along.
    this.sockets.add(client);
    client.pipe(upstream);
    upstream.pipe(client);
    let connected = false;
    upstream.once('connect', () => {
      connected = true;
    });
    upstream.on('error', () => {
      // A pod that went away before the endpoints caught up: the client sees a reset.
      if (!connected) client.resetAndDestroy();
      else client.destroy();
    });
    client.on('error', () => upstream.destroy());
    client.once('close', () => {
      this.sockets.delete(client);
      upstream.destroy();
    });
  }
}

/** Ready addresses of an Endpoints object for one Service port, in a stable order. */
export function backendsFor(endpoints: KubeObject, servicePort: ServicePort): Backend[] {
  const subsets = (endpoints.subsets ?? []) as EndpointSubset[];
  const out: Backend[] = [];
  for (const s of subsets) {
    const port =
      s.ports.find((p) => (p.name ?? '') === (servicePort.name ?? '')) ??
      (s.ports.length === 1 && !servicePort.name ? s.ports[0] : undefined);
    if (!port) continue;
    for (const a of s.addresses ?? []) out.push({ ip: a.ip, port: port.port });
  }
  return out.sort((a, b) => a.ip.localeCompare(b.ip, 'en', { numeric: true }) || a.port - b.port);
}
