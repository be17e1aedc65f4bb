import { createSocket } from 'node:dgram';
import type { Store } from './store.js';
import { nodeNames, registerNodes } from './nodes.js';
import { LogBook, type PodLogs } from './kubelet/logs.js';
import { Kubelet } from './kubelet/kubelet.js';
import { Scheduler } from './kubelet/scheduler.js';
import { DeploymentController } from './controllers/deployment.js';
import { ReplicaSetController } from './controllers/replicaset.js';
import { JobController } from './controllers/job.js';
import { EndpointsController } from './controllers/endpoints.js';
import { DisruptionController } from './controllers/disruption.js';
import { NamespaceController } from './controllers/namespace.js';
import { GarbageCollector } from './gc.js';
import { ServiceProxy } from './proxy.js';
import { EventReaper } from './events.js';
import { forkRandom, seededRandom } from './random.js';
import { DEFAULT_ADDRESS_OCTET, SERVICE_THIRD_OCTET, type AddressBlock } from './address-block.js';

export type { PodLogs } from './kubelet/logs.js';

export interface RuntimeOptions {
  /** Simulated nodes, kind's names: replica-demo-control-plane, replica-demo-worker, ... Default 3. */
  nodes: number;
  /** Seeds every random choice the runtime makes (proxy picks, scheduling ties). */
  seed?: string;
  /** Absolute path of the compiled server (dist/server/main.js) that `multi-replica-app` runs. */
  serverEntry: string;
  /** Where the runtime reports what goes wrong inside it (default: stderr). */
  log?: (message: string) => void;
  /** Default: the Node.js running the daemon. */
  nodeBinary?: string;
  /** Default: `curl` on PATH. */
  curlBinary?: string;
  now?: () => Date;
  /**
   * The block of pod and Service addresses (claimAddressBlock), released when the runtime
   * stops, so clusters running side by side never share an address. Default: the block
   * DEFAULT_ADDRESS_OCTET, unclaimed, for a runtime alone on the machine.
   */
  addressBlock?: AddressBlock;
}

/** The embedded cluster's moving parts: nodes, controllers, kubelet and Service proxy. */
export class Runtime {
  readonly logs: PodLogs;
  private readonly logBook: LogBook;
  private readonly proxy: ServiceProxy;
  private readonly kubelet: Kubelet;
  private readonly parts: { start(): void; stop(): Promise<void> }[];
  private readonly block: AddressBlock;
  private started = false;

  constructor(
    private readonly store: Store,
    private readonly options: RuntimeOptions,
  ) {
    const now = options.now ?? (() => new Date());
    const log = options.log ?? ((m: string) => process.stderr.write(`${m}\n`));
    const random = seededRandom(options.seed);
    this.block = options.addressBlock ?? {
      octet: DEFAULT_ADDRESS_OCTET,
      release: () => undefined,
    };
    this.logBook = new LogBook(store, now);
    this.logs = this.logBook;
    // Separate streams, so (say) a scheduling decision does not shift the proxy's picks.
    this.proxy = new ServiceProxy(store, forkRandom(random, 'proxy'), log);
    this.kubelet = new Kubelet(store, this.logBook, {
      nodeNames: nodeNamesFor(options.nodes),
      addressOctet: this.block.octet,
      serverEntry: options.serverEntry,
      nodeBinary: options.nodeBinary ?? process.execPath,
      curlBinary: options.curlBinary ?? 'curl',
      random: forkRandom(random, 'kubelet'),
      now,
      log,
      serviceTarget: (ns, svc, port) => this.serviceTarget(ns, svc, port),
    });
    this.parts = [
      new GarbageCollector(store, log),
      new EventReaper(store, now),
      new NamespaceController(store, log),
      new DeploymentController(store, now, log),
      new ReplicaSetController(store, now, log),
      new JobController(store, now, log),
      new EndpointsController(store, log),
      new DisruptionController(store, log),
      new Scheduler(store, forkRandom(random, 'scheduler'), log),
      this.proxy,
      this.kubelet,
    ];
  }

  async start(): Promise<void> {
    if (this.started) return;
    await verifyLoopbackRange(this.block.octet);
    registerNodes(this.store, nodeCount(this.options.nodes), this.block.octet);
    for (const p of this.parts) p.start();
    this.started = true;
    // Listeners for Services that already exist are bound before start returns.
    await new Promise((r) => setImmediate(r));
    await this.proxy.settled();
  }

  /** Stops controllers first (nothing new starts), then every pod process, then the proxy. */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    for (const p of this.parts.slice(0, -2)) await p.stop();
    await this.kubelet.stop();
    await this.proxy.stop();
    this.block.release();
  }

  /** The second octet of this cluster's pod and Service addresses. */
  get addressOctet(): number {
    return this.block.octet;
  }

  /** PIDs of the running container processes. */
  pids(): number[] {
    return this.kubelet.pids();
  }

  /** Resolves once every Service port's listener is bound. */
  proxySettled(): Promise<void> {
    return this.proxy.settled();
  }

  /** Where the proxy of a Service port actually listens (the clusterIP, maybe another port). */
  serviceTarget(
    namespace: string,
    service: string,
    port: number,
  ): { host: string; port: number } | undefined {
    return this.proxy.target(namespace, service, port);
  }
}

function nodeCount(n: number): number {
  return Number.isInteger(n) && n >= 1 ? n : 3;
}

function nodeNamesFor(n: number): string[] {
  return nodeNames(nodeCount(n));
}

/**
 * Pod and Service addresses are spread over 127.0.0.0/8, which Linux answers on without
 * setup. Elsewhere (macOS has only 127.0.0.1) binding them fails: refuse at start, clearly.
 */
export async function verifyLoopbackRange(octet = DEFAULT_ADDRESS_OCTET): Promise<void> {
  for (const address of [`127.${octet}.0.2`, `127.${octet}.${SERVICE_THIRD_OCTET}.2`]) {
    const ok = await canBind(address);
    if (!ok) {
      throw new Error(
        `the embedded cluster needs the whole 127.0.0.0/8 loopback range (pod and Service addresses like ${address}), but this system cannot bind ${address}; on Linux it works without setup, on macOS add loopback aliases (sudo ifconfig lo0 alias ${address}) or use kind`,
      );
    }
  }
}

function canBind(address: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => {
      socket.close();
      resolve(false);
    });
    socket.bind({ address, port: 0 }, () => {
      socket.close();
      resolve(true);
    });
  });
}
